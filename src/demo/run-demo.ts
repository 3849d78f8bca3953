import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { deleteKeysUnder } from '../adapters/redis.js';
import { brainstormDeps } from '../brainstorm/deps.js';
import { runBrainstorm } from '../brainstorm/run-brainstorm.js';
import { windowEndingAt } from '../brainstorm/window.js';
import { errorMessage } from '../errors.js';
import type { Incident } from '../incidents/incident.js';
import { approve, awaitingSince } from '../operator/actions.js';
import { operatorDepsFor } from '../operator/runtime-deps.js';
import { loadCatalog } from '../runbooks/catalog.js';
import { createLogger } from '../runtime/logger.js';
import { startWatches } from '../runtime/pod-watch.js';
import { type Role, startSurface, startWorker } from '../runtime/roles.js';
import { openRuntime, type Runtime } from '../runtime/runtime.js';
import { checksQueue, SWEEP_JOB } from '../schedule/queues.js';
import type { ChatSurface } from '../surfaces/chat-surface.js';
import { ConsoleSurface } from '../surfaces/console.js';
import { colors } from '../surfaces/format.js';
import { type DemoWorld, writeDemoConfig, writeDemoRunbooks } from './demo-config.js';
import { assertDemoKubeconfig, simulatedCluster } from './simulated-cluster.js';
import { expiringTlsEndpoint, flappingService, fullDisk, spikingLog } from './simulated-services.js';

export interface DemoOptions {
  /** How long the demo runs before the Brainstorm and the summary (default 60 s). */
  seconds?: number;
  /** Seconds between sweeps (default 5). */
  sweepEvery?: number;
  /** Seconds the demo operator waits before approving (default 4). */
  approveAfter?: number;
  /** Keep the demo folder (config, runbooks, memory, audit) and print where it is. */
  keep?: boolean;
  /** A kubeconfig given by the user: accepted only if it is the demo's own (see assertDemoKubeconfig). */
  kubeconfig?: string;
}

export interface DemoResult {
  dir: string;
  incidents: Incident[];
  audit: Record<string, number>;
  brainstorm?: { path: string; summary: string };
  skipped: string[];
}

/**
 * `reef demo`: the whole loop on a simulated world, in about a minute, with only Redis (a private
 * redis-server is started when none answers). Reef detects, diagnoses, fixes what is `auto`, asks for the
 * rest (a simulated operator approves on the console, or in Slack when tokens are set), verifies, audits
 * and writes a Brainstorm report. Everything is labelled a simulation; it never talks to a real cluster.
 */
export async function runDemo(
  options: DemoOptions,
  io: { out: Writable; err: Writable; env: NodeJS.ProcessEnv; cwd: string; color: boolean },
): Promise<DemoResult> {
  if (options.kubeconfig) assertDemoKubeconfig(options.kubeconfig);
  const c = colors(io.color);
  const say = (text: string) => io.out.write(`${text}\n`);
  const seconds = options.seconds ?? 60;
  const sweepEvery = (options.sweepEvery ?? 5) * 1000;
  const approveAfter = (options.approveAfter ?? 4) * 1000;
  const dir = await mkdtemp(path.join(tmpdir(), 'reef-demo-'));
  const closers: (() => Promise<unknown>)[] = [];
  const skipped: string[] = [];
  say(c.bold(c.yellow('━━ REEF DEMO — a SIMULATION: local stand-ins only, nothing real is touched ━━')));
  try {
    const flaky = await flappingService(6000, 6000);
    closers.push(flaky.close);
    const tls = await expiringTlsEndpoint(path.join(dir, 'tls'), 10);
    if (tls) closers.push(tls.close);
    else skipped.push('the TLS certificate (openssl is not installed)');
    const cluster = await simulatedCluster(dir);
    closers.push(cluster.close);
    assertDemoKubeconfig(cluster.kubeconfig);
    const disk = await fullDisk(dir, path.join(dir, 'bin'));
    const logFile = path.join(dir, 'logs', 'payments.log');
    await spikingLog(logFile);
    const world: DemoWorld = {
      dir,
      prefix: `reef-demo-${randomBytes(4).toString('hex')}`,
      flakyUrl: flaky.url,
      ...(tls ? { tls: { url: tls.url, caFile: tls.caFile } } : {}),
      kubeconfig: cluster.kubeconfig,
      diskMount: disk.mount,
      logFile,
    };
    await writeDemoRunbooks(world);
    const configFile = await writeDemoConfig(world);
    // The simulated `df` for the demo "disk"; every other command is the real one.
    const env = { ...io.env, PATH: `${disk.binDir}${path.delimiter}${io.env.PATH ?? ''}` };
    const pathBefore = process.env.PATH;
    process.env.PATH = env.PATH;
    closers.push(async () => {
      process.env.PATH = pathBefore;
    });
    say(
      [
        'Simulated world:',
        `  • storefront      ${flaky.url} — down 6 s, up 6 s, over and over (flapping)`,
        tls ? `  • shop-tls        ${tls.url} — certificate from a demo CA, expires in 10 days` : '',
        `  • cluster "demo"  local Kubernetes API stand-in; pod shop/${cluster.crashingPod} is in CrashLoopBackOff`,
        `  • demo-host       ${disk.mount} — a simulated 40 MiB disk, 92 % full`,
        `  • payments-log    ${logFile} — ERROR lines up ~8x in the last hour`,
        `Runbooks: pod-restart auto · disk-cleanup and log-rotation approve · certificate-renewal suggest.`,
        `Diagnosis: ${io.env.ANTHROPIC_API_KEY ? 'Claude (ANTHROPIC_API_KEY is set), rules as fallback' : 'rule-based (set ANTHROPIC_API_KEY to use Claude)'}.`,
        '',
      ]
        .filter((l) => l !== '')
        .join('\n'),
    );

    const rt = await openRuntime({
      configFlag: configFile,
      env: { ...env, REEF_DATA_DIR: path.join(dir, 'data') },
      cwd: dir,
      mayStartPrivateRedis: true,
      log: (message) => io.err.write(`${message}\n`),
    });
    closers.push(async () => {
      // The demo's own prefix: it leaves no trace in a shared Redis.
      if (!options.keep) await deleteKeysUnder(rt.connection, rt.prefix);
      await rt.close();
    });
    const log = createLogger(io.env.REEF_LOG_LEVEL ?? 'warn');
    const roles: Role[] = [];
    closers.push(async () => {
      for (const role of roles.reverse()) await role.stop().catch(() => {});
    });
    const slack = io.env.SLACK_BOT_TOKEN
      ? await (await import('../surfaces/slack/start-slack.js')).startSlack(rt, log, env)
      : undefined;
    const surface: ChatSurface = slack?.surface ?? new ConsoleSurface(io.out, 'UTC', io.color);
    roles.push(startWorker(rt, log));
    roles.push(startSurface(rt, surface, log));
    if (slack) roles.push(slack.role);
    roles.push(startWatches(rt, log));

    const operator = operatorDepsFor(rt, loadCatalog(path.join(dir, 'runbooks')));
    closers.push(() => operator.close());
    const queue = checksQueue(rt.redis.bullConnection(), rt.prefix);
    closers.push(() => queue.close());
    const started = Date.now();
    let sweeps = 0;
    const sweep = async () => {
      sweeps++;
      await queue.add(SWEEP_JOB, { trigger: 'demo' });
    };
    await sweep();
    const approved = new Set<string>();
    while (Date.now() - started < seconds * 1000) {
      await sleep(1000);
      if (Date.now() - started >= sweeps * sweepEvery) await sweep();
      for (const incident of await rt.store.current()) {
        if (incident.state !== 'awaiting-approval' || approved.has(incident.id)) continue;
        const askedFor = Date.now() - awaitingSince(incident);
        if (askedFor < approveAfter) continue;
        approved.add(incident.id);
        say(
          c.cyan(
            `(simulation) the demo operator approves #${incident.id} — for real: click Approve in Slack, or \`reef approve ${incident.id}\``,
          ),
        );
        const result = await approve(operator, { ref: incident.id, by: 'demo:operator' });
        if (!result.ok) say(c.dim(`  ${result.message}`));
      }
    }

    // Quiet the world before the summary: no new sweeps or watch events, and the surface has printed
    // what they announced (the talking roles stop on the way out).
    const talking = (r: Role) => r.name.startsWith('surface') || r.name === 'slack';
    for (const role of roles.filter((r) => !talking(r))) await role.stop().catch(() => {});
    roles.splice(0, roles.length, ...roles.filter(talking));
    await sleep(1500);
    const incidents = await rt.store.list({ limit: 100 });
    const audit: Record<string, number> = {};
    for (const entry of await operator.audit.read({})) audit[entry.action] = (audit[entry.action] ?? 0) + 1;
    let brainstorm: DemoResult['brainstorm'];
    try {
      const { deps, close } = brainstormDeps(rt, (message) => say(c.dim(message)), env);
      try {
        const run = await runBrainstorm(deps, {
          window: windowEndingAt(rt.clock.now(), 'UTC'),
          trigger: 'demo',
        });
        brainstorm = { path: path.join(dir, 'memory', run.path), summary: run.report.date };
      } finally {
        await close();
      }
    } catch (error) {
      skipped.push(`the Brainstorm report (${errorMessage(error)})`);
    }
    say('');
    say(c.bold('━━ Demo summary (simulation) ━━'));
    for (const i of incidents.sort((a, b) => Number(a.id) - Number(b.id))) {
      say(`  #${i.id} ${i.check}/${i.target} ${i.condition}: ${i.state}${i.flapping ? ' (flapping)' : ''}`);
    }
    say(
      `  Audit: ${Object.entries(audit)
        .map(([k, v]) => `${k} ${v}`)
        .join(' · ')}`,
    );
    if (brainstorm) say(`  Brainstorm report: ${brainstorm.path}`);
    if (skipped.length) say(`  Left out: ${skipped.join('; ')}`);
    say(
      options.keep
        ? `  Everything the demo wrote is in ${dir} (config, runbooks, memory, audit). Remove it when done.`
        : '  The demo folder and its Redis keys are removed. Run `reef demo --keep` to inspect them.',
    );
    return { dir, incidents, audit, ...(brainstorm ? { brainstorm } : {}), skipped };
  } finally {
    for (const close of closers.reverse()) await close().catch(() => {});
    if (!options.keep) await rm(dir, { recursive: true, force: true });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
