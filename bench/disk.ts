import { cpus, loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { systemClock } from '../src/adapters/clock.js';
import { createHostPort } from '../src/adapters/hosts.js';
import { runSweep } from '../src/checks/sweep.js';
import { configSchema, type ReefConfig } from '../src/config/schema.js';
import { createCheckContext } from '../src/runtime/check-context.js';
import { sshdUnavailable, startSshd, type TestSshd } from '../test/fixtures/sshd.js';
import type { Scenario, ScenarioReport } from './scenario.js';

interface Setup {
  targets: number;
  /** Two paths per target: two `df` pairs on one mount, like a typical `/` + `/var` on one disk. */
  paths: readonly string[];
  concurrency: number;
}

const FULL: Setup = { targets: 50, paths: ['/', '/tmp'], concurrency: 64 };
/** `--quick`: 8 targets, so 8 hosts' key exchanges instead of 50 per run. */
const QUICK: Setup = { ...FULL, targets: 8 };

type Layout = 'direct' | 'bastion' | 'shared';

/**
 * Each run is one sweep with a fresh check context, as a worker makes per scheduled sweep. `layout`: how
 * the disk targets reach the one local sshd.
 */
function runsOf(setup: Setup): { label: string; layout: Layout }[] {
  const n = setup.targets;
  return [
    { label: `${n} hosts, direct`, layout: 'direct' },
    { label: 'again (new sweep)', layout: 'direct' },
    { label: `${n} hosts via 1 bastion`, layout: 'bastion' },
    { label: `1 host, ${n} targets`, layout: 'shared' },
  ];
}

interface RunFigures {
  label: string;
  probes: number;
  wallMs: number;
  /** The context's close(): ending every SSH connection (bastion chains last). */
  closeMs: number;
  medianProbeMs: number;
  slowestProbeMs: number;
  /** Logins sshd accepted during the sweep: SSH connections Reef opened (through the bastion included). */
  connectionsOpened: number;
  /** TCP connections sshd accepted; any above connectionsOpened were not logged in. */
  tcpConnections: number;
  findings: number;
  errors: number;
  /** One check error, when there were any. */
  errorExample: string | null;
  cpuMs: number;
  loopDelayP99Ms: number;
}

/**
 * 50 `disk` targets over SSH against one real local sshd (distinct host names, so distinct connections),
 * through the real sweep, check context and SSH adapter: the wall time of a sweep and the connections it
 * opens. Also the same hosts through one bastion, and 50 targets sharing one host (one connection).
 */
export const diskScenario: Scenario = {
  name: 'disk',
  description: `one sweep of ${FULL.targets} SSH disk targets (df -P + df -Pi for ${FULL.paths.length} paths each) against a local sshd`,
  deadlineMs: 90_000,
  async run({ log, signal, quick }) {
    const setup = quick ? QUICK : FULL;
    if (quick) log(`quick: ${setup.targets} disk targets`);
    const missing = sshdUnavailable();
    if (missing) throw new Error(`needs OpenSSH's sshd: ${missing}`);
    let sshd: TestSshd | undefined;
    const release = async () => {
      await sshd?.stop();
      sshd = undefined;
    };
    signal.addEventListener('abort', () => void release(), { once: true });
    try {
      const rcFilesMs = await withSshd([], (s) => commandCost(setup, s));
      // bash reads ~/.bashrc for every SSH command (its stdin is a socket) unless SHLVL says it is nested;
      // the stand-in host skips it, so the runs measure Reef and sshd, not this machine's dotfiles.
      sshd = await startSshd({ config: ['SetEnv SHLVL=1'] });
      log(`sshd on 127.0.0.1:${sshd.port} (a child of this process)`);
      const commandMs = await commandCost(setup, sshd);
      log(
        `one command on an open connection: ${commandMs} ms (${rcFilesMs} ms when the shell reads root's rc files)`,
      );
      const runs: RunFigures[] = [];
      for (const run of runsOf(setup)) {
        signal.throwIfAborted();
        const figures = await measure(run.label, buildConfig(setup, sshd, run.layout), sshd);
        log(`${run.label}: ${figures.wallMs} ms, ${figures.connectionsOpened} connections`);
        runs.push(figures);
      }
      return report(setup, runs, { commandMs, rcFilesMs });
    } finally {
      await release();
    }
  },
};

async function withSshd<T>(config: string[], fn: (sshd: TestSshd) => Promise<T>): Promise<T> {
  const sshd = await startSshd({ config });
  try {
    return await fn(sshd);
  } finally {
    await sshd.stop();
  }
}

function buildConfig(setup: Setup, sshd: TestSshd, layout: Layout): ReefConfig {
  const endpoint = {
    host: sshd.host,
    port: sshd.port,
    username: sshd.username,
    privateKeyPath: sshd.clientKeyPath,
    hostKeyFingerprint: sshd.hostKeyFingerprint,
  };
  const names = Array.from({ length: setup.targets }, (_, i) => `disk-${i}`);
  const hosts: Record<string, unknown> =
    layout === 'shared'
      ? { box: endpoint }
      : Object.fromEntries(
          names.map((n) => [n, layout === 'bastion' ? { ...endpoint, via: 'bastion' } : endpoint]),
        );
  if (layout === 'bastion') hosts.bastion = endpoint;
  const disk = names.map((n) => ({
    ...(layout === 'shared' ? { name: n, host: 'box' } : { host: n }),
    paths: [...setup.paths],
    // One machine plays all the hosts, so their shells queue for the same CPUs (see the notes).
    timeoutMs: 60_000,
    // Never critical, whatever this machine's disks hold: the bench measures df, not du.
    warnPercent: 99,
    actPercent: 100,
    inodeWarnPercent: 100,
  }));
  return configSchema.parse({ sweep: { concurrency: setup.concurrency }, hosts, checks: { disk } });
}

async function measure(label: string, config: ReefConfig, sshd: TestSshd): Promise<RunFigures> {
  const logins0 = sshd.logins();
  const tcp0 = sshd.connections();
  const { context, close } = createCheckContext(config, { clock: systemClock });
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let result: Awaited<ReturnType<typeof runSweep>>;
  let wallMs: number;
  let closeMs: number;
  try {
    result = await runSweep(config, context, { probeDeadlineMs: 60_000 });
    wallMs = performance.now() - t0;
  } finally {
    const c0 = performance.now();
    await close();
    closeMs = performance.now() - c0;
    loop.disable();
  }
  const cpu = process.cpuUsage(cpu0);
  const latencies = [
    ...new Map(result.findings.map((f) => [f.facts.host, Number(f.facts.latencyMs)])).values(),
  ].sort((a, b) => a - b);
  return {
    label,
    probes: result.probed,
    wallMs: round(wallMs),
    closeMs: round(closeMs),
    medianProbeMs: round(latencies[Math.floor(latencies.length / 2)] ?? 0),
    slowestProbeMs: round(latencies.at(-1) ?? 0),
    connectionsOpened: sshd.logins() - logins0,
    tcpConnections: sshd.connections() - tcp0,
    findings: result.findings.length,
    errors: result.errors.length,
    errorExample: result.errors[0] ? `${result.errors[0].target}: ${result.errors[0].message}` : null,
    cpuMs: round((cpu.user + cpu.system) / 1000),
    loopDelayP99Ms: round(loop.percentile(99) / 1e6),
  };
}

/**
 * What one command costs on an already open connection: sshd forks a session and starts the user's shell,
 * which reads its rc files. This is the host's cost per command, paid 100 times per run below.
 */
async function commandCost(setup: Setup, sshd: TestSshd): Promise<number> {
  const config = buildConfig(setup, sshd, 'shared');
  const hosts = createHostPort(config);
  try {
    await hosts.exec('box', ['true']);
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      await hosts.exec('box', ['true']);
      times.push(performance.now() - t0);
    }
    return round(times.sort((a, b) => a - b)[2]!);
  } finally {
    await hosts.close();
  }
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

function report(
  setup: Setup,
  runs: readonly RunFigures[],
  cost: { commandMs: number; rcFilesMs: number },
): ScenarioReport {
  const load = loadavg().map((n) => n.toFixed(1));
  const row = (metric: string, cell: (r: RunFigures) => string) => [metric, ...runs.map(cell)];
  return {
    table: [
      row('', (r) => r.label),
      row('disk probes', (r) => String(r.probes)),
      row('sweep wall time (ms)', (r) => r.wallMs.toFixed(1)),
      row('median probe (ms)', (r) => r.medianProbeMs.toFixed(1)),
      row('slowest probe (ms)', (r) => r.slowestProbeMs.toFixed(1)),
      row('SSH connections opened', (r) => String(r.connectionsOpened)),
      row('TCP connections to sshd', (r) => String(r.tcpConnections)),
      row('findings', (r) => String(r.findings)),
      row('check errors', (r) => String(r.errors)),
      row('close() (ms)', (r) => r.closeMs.toFixed(1)),
      row('CPU time in Reef (ms)', (r) => r.cpuMs.toFixed(1)),
      row('event-loop delay p99 (ms)', (r) => r.loopDelayP99Ms.toFixed(1)),
    ],
    notes: [
      `Set-up: one OpenSSH sshd on 127.0.0.1 (ed25519 host key, pinned by fingerprint); ${setup.targets} disk targets, ` +
        `paths ${setup.paths.join(' + ')} each, sweep concurrency ${setup.concurrency}; each run a fresh check context (one per sweep).`,
      'Connections are counted from sshd\'s own log ("Accepted publickey"), not from Reef. Through the bastion, ' +
        'each host is one more login on the same sshd, carried inside the one bastion connection.',
      `sshd runs on this machine and plays all ${setup.targets} hosts (${cpus().length} CPUs, load average ${load.join(' ')} at the end): ` +
        'their key exchanges, session forks and shells share the CPUs with Reef, so wall times are bounded by the host side.',
      `One command on an open connection: ${cost.commandMs} ms with the stand-in's lean shell (sshd SetEnv SHLVL=1, so bash ` +
        `skips ~/.bashrc); ${cost.rcFilesMs} ms when bash reads root's rc files, as it does by default for SSH commands.`,
      ...runs
        .filter((r) => r.errorExample)
        .map((r) => `${r.label}: ${r.errors} check errors, e.g. ${r.errorExample}`),
    ],
    figures: { setup, ...cost, loadAverage: loadavg(), runs },
  };
}
