import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { createAnthropicPort } from '../src/adapters/anthropic.js';
import type { Clock } from '../src/adapters/clock.js';
import { deleteKeysUnder, type RedisHandle } from '../src/adapters/redis.js';
import { AuditLog } from '../src/audit/audit-log.js';
import type { ProbeOutcome } from '../src/checks/sweep.js';
import { configSchema } from '../src/config/schema.js';
import { createDiagnoser } from '../src/diagnosis/create.js';
import { CostLedger } from '../src/diagnosis/ledger.js';
import { diagnoseStep, rediagnoseWorsened } from '../src/diagnosis/step.js';
import { EventBus } from '../src/events/event-bus.js';
import { type DecideDeps, decideOpened } from '../src/execution/decide.js';
import { executionsQueue } from '../src/execution/queue.js';
import {
  type CheckKind,
  type Facts,
  type Finding,
  makeFinding,
  type Severity,
} from '../src/findings/finding.js';
import { IncidentStore } from '../src/incidents/store.js';
import { IncidentTracker } from '../src/incidents/tracker.js';
import { loadCatalog } from '../src/runbooks/catalog.js';
import { BUNDLED_RUNBOOKS_DIR } from '../src/runbooks/location.js';
import { startAnthropicApiServer } from '../test/fixtures/anthropic-api-server.js';
import type { Scenario } from './scenario.js';
import { benchRedis } from './support/bench-redis.js';

interface Setup {
  /** Sweeps per simulated "day": the injected incidents are placed in days and sweeps into the day. */
  sweepsPerDay: number;
  days: number;
  /** Targets per check; the injected ones (api-12, api-30, tls-3, apps/web-7, log-2) must exist. */
  fleet: { http: number; certificate: number; pods: number; disk: number; errorLogs: number };
}

/** A week of 15-minute sweeps over a fixed fleet. */
const FULL: Setup = {
  sweepsPerDay: 96,
  days: 7,
  fleet: { http: 40, certificate: 10, pods: 60, disk: 10, errorLogs: 5 },
};

/**
 * `--quick`: a quarter of the sweeps (the sweeps still 15 minutes apart, so every injected incident keeps
 * its length, only the gaps between them shrink) over a smaller fleet that still holds the injected targets.
 */
const QUICK: Setup = {
  sweepsPerDay: 24,
  days: 7,
  fleet: { http: 32, certificate: 5, pods: 10, disk: 2, errorLogs: 3 },
};

const sweepsOf = (setup: Setup) => setup.sweepsPerDay * setup.days;
const targetsOf = (setup: Setup) => Object.values(setup.fleet).reduce((a, b) => a + b, 0);

interface Injected {
  label: string;
  check: CheckKind;
  target: string;
  /** The probe (configured target) that reports it. */
  probe: string;
  condition: string;
  /** Severity at sweep `s`, or undefined while healthy. */
  at(s: number): Severity | undefined;
}

/**
 * Five incidents: an OOM kill, a certificate that worsens, an HTTP outage, an error spike, a flapping
 * endpoint. `DAY` is the sweeps in a simulated day; the last one ends with the last sweep of day 7.
 */
const injected = (DAY: number): Injected[] => [
  {
    label: 'OOMKilled pod (45 min)',
    check: 'pods',
    target: 'apps/web-7',
    probe: 'lab',
    condition: 'OOMKilled',
    at: (s) => (s >= DAY + 40 && s < DAY + 43 ? 'critical' : undefined),
  },
  {
    label: 'certificate expiring, warning then critical',
    check: 'certificate',
    target: 'tls-3',
    probe: 'tls-3',
    condition: 'expiring',
    at: (s) =>
      s >= 2 * DAY && s < 3 * DAY ? 'warning' : s >= 3 * DAY && s < 3 * DAY + 10 ? 'critical' : undefined,
  },
  {
    label: 'HTTP 503 (1 h)',
    check: 'http',
    target: 'api-12',
    probe: 'api-12',
    condition: 'bad-status',
    at: (s) => (s >= 4 * DAY + 56 && s < 4 * DAY + 60 ? 'critical' : undefined),
  },
  {
    label: 'error spike (2 h)',
    check: 'errorLogs',
    target: 'log-2',
    probe: 'log-2',
    condition: 'error-spike',
    at: (s) => (s >= 5 * DAY + 30 && s < 5 * DAY + 38 ? 'critical' : undefined),
  },
  {
    label: 'flapping timeout (6 h, down every other sweep)',
    check: 'http',
    target: 'api-30',
    probe: 'api-30',
    condition: 'timeout',
    at: (s) => (s >= 6 * DAY && s < 6 * DAY + 24 && s % 2 === 0 ? 'critical' : undefined),
  },
];

function fleetFindings(setup: Setup, problems: readonly Injected[], s: number, now: Date): ProbeOutcome[] {
  const outcomes: ProbeOutcome[] = [];
  const add = (check: CheckKind, probe: string, findings: Finding[]) =>
    outcomes.push({
      status: findings.some((f) => f.severity !== 'ok') ? 'anomaly' : 'ok',
      check,
      target: probe,
      findings,
    });
  const finding = (check: CheckKind, target: string, probe: string): Finding => {
    const problem = problems.find((i) => i.check === check && i.target === target);
    const severity = problem?.at(s);
    const facts: Facts =
      check === 'pods'
        ? {
            cluster: probe,
            namespace: 'apps',
            pod: target.split('/')[1]!,
            ownerKind: 'Deployment',
            ownerName: 'web',
            stateful: false,
            restartCount: 4,
            previousRestartCount: 2,
            exitCode: 137,
            container: 'app',
          }
        : { probe };
    return makeFinding(
      {
        check,
        target,
        condition: severity ? problem!.condition : 'ok',
        severity: severity ?? 'ok',
        summary: severity ? `${problem!.label}` : 'healthy',
        facts: check === 'certificate' ? { ...facts, daysLeft: severity === 'critical' ? 2 : 10 } : facts,
      },
      now,
    );
  };
  for (let i = 0; i < setup.fleet.http; i++)
    add('http', `api-${i}`, [finding('http', `api-${i}`, `api-${i}`)]);
  for (let i = 0; i < setup.fleet.certificate; i++)
    add('certificate', `tls-${i}`, [finding('certificate', `tls-${i}`, `tls-${i}`)]);
  add(
    'pods',
    'lab',
    Array.from({ length: setup.fleet.pods }, (_, i) => finding('pods', `apps/web-${i}`, 'lab')),
  );
  for (let i = 0; i < setup.fleet.disk; i++)
    add('disk', `host-${i}`, [finding('disk', `host-${i}:/var`, `host-${i}`)]);
  for (let i = 0; i < setup.fleet.errorLogs; i++)
    add('errorLogs', `log-${i}`, [finding('errorLogs', `log-${i}`, `log-${i}`)]);
  return outcomes;
}

export const diagnosisScenario: Scenario = {
  name: 'diagnosis',
  description: `A simulated week: ${sweepsOf(FULL)} sweeps of ${targetsOf(FULL)} targets with 5 injected incidents (one flapping), through the real tracker, decision and Claude diagnoser (local Messages API stand-in, real SDK, real Redis). LLM calls made vs. calling on every check.`,
  deadlineMs: 180_000,
  async run({ log, signal, quick }) {
    const setup = quick ? QUICK : FULL;
    const sweeps = sweepsOf(setup);
    const targets = targetsOf(setup);
    const problems = injected(setup.sweepsPerDay);
    if (quick) log(`quick: ${sweeps} sweeps of ${targets} targets`);
    const dir = await mkdtemp(path.join(tmpdir(), 'reef-bench-diag-'));
    const prefix = `reef-bench-diag-${process.pid}-${Date.now().toString(36)}`;
    const api = await startAnthropicApiServer({ apiKey: 'sk-ant-bench' });
    let handle: RedisHandle | undefined;
    let redis: Redis | undefined;
    const closers: (() => Promise<unknown>)[] = [];
    let released = false;
    const release = async () => {
      if (released) return;
      released = true;
      for (const close of closers.splice(0).reverse()) await close().catch(() => {});
      if (redis) await deleteKeysUnder(redis, prefix).catch(() => {});
      redis?.disconnect();
      await handle?.stop();
      await api.close();
      await rm(dir, { recursive: true, force: true });
    };
    signal.addEventListener('abort', () => void release(), { once: true });
    try {
      handle = await benchRedis(dir, log);
      redis = handle.connect();
      const config = configSchema.parse({ redis: { prefix }, llm: { baseUrl: api.url } });
      let ms = Date.parse('2026-11-23T00:00:00Z');
      const clock: Clock = { now: () => new Date(ms) };
      const store = new IncidentStore(redis, prefix);
      const tracker = new IncidentTracker(store, clock);
      const queue = executionsQueue(handle.bullConnection(), prefix);
      closers.push(() => queue.close());
      const diagnoser = createDiagnoser({
        llm: config.llm,
        timezone: config.timezone,
        redis,
        prefix,
        clock,
        port: createAnthropicPort({
          apiKey: 'sk-ant-bench',
          baseUrl: api.url,
          timeoutMs: 10_000,
          maxRetries: 0,
        }),
      });
      const deps: DecideDeps = {
        catalog: loadCatalog(BUNDLED_RUNBOOKS_DIR),
        store,
        bus: new EventBus(redis, prefix),
        audit: new AuditLog(redis, prefix, { clock }),
        clock,
        queue,
        diagnose: diagnoseStep({ diagnoser, store, clock }),
      };
      const counts = { opened: 0, worsened: 0, flapping: 0, resolved: 0, unhealthyFindings: 0 };
      const started = performance.now();
      for (let s = 0; s < sweeps; s++) {
        signal.throwIfAborted();
        const outcomes = fleetFindings(setup, problems, s, clock.now());
        for (const o of outcomes)
          if (o.status !== 'error')
            counts.unhealthyFindings += o.findings.filter((f) => f.severity !== 'ok').length;
        const events = await tracker.ingest({ outcomes, only: null }, config);
        for (const e of events) if (e.type in counts) counts[e.type as keyof typeof counts]++;
        await decideOpened(events, deps);
        await rediagnoseWorsened(events, deps);
        ms += 15 * 60_000;
      }
      const wallMs = performance.now() - started;
      const ledger = new CostLedger(redis, prefix, { timezone: config.timezone, prices: config.llm.prices });
      const spent = (await ledger.spent(clock.now())).month;
      const calls = api.requests.length;
      const fullCalls = sweeps * targets;
      const perCallIn = calls > 0 ? spent.inputTokens / calls : 0;
      const perCallOut = calls > 0 ? spent.outputTokens / calls : 0;
      const price = config.llm.prices[config.llm.model]!;
      const fullUsd = (fullCalls * (perCallIn * price.inputPerMTok + perCallOut * price.outputPerMTok)) / 1e6;
      const unhealthyUsd =
        (counts.unhealthyFindings * (perCallIn * price.inputPerMTok + perCallOut * price.outputPerMTok)) /
        1e6;
      const goal = problems.length + counts.worsened;
      const reduction = 1 - calls / fullCalls;
      const usd = (n: number) => `$${n.toFixed(n < 1 ? 4 : 2)}`;
      return {
        table: [
          ['design', 'LLM calls', 'input tokens', 'output tokens', 'est. dollars'],
          [
            'Reef (incidents only, cached by fingerprint)',
            String(calls),
            String(spent.inputTokens),
            String(spent.outputTokens),
            usd(spent.costUsd),
          ],
          [
            'LLM on every unhealthy finding (no dedup)',
            String(counts.unhealthyFindings),
            `~${Math.round(perCallIn * counts.unhealthyFindings)}`,
            `~${Math.round(perCallOut * counts.unhealthyFindings)}`,
            `~${usd(unhealthyUsd)}`,
          ],
          [
            'LLM on every check (full-LLM design)',
            String(fullCalls),
            `~${Math.round(perCallIn * fullCalls)}`,
            `~${Math.round(perCallOut * fullCalls)}`,
            `~${usd(fullUsd)}`,
          ],
        ],
        notes: [
          `${sweeps} sweeps × ${targets} targets; events: ${counts.opened} opened, ${counts.worsened} worsened, ${counts.flapping} flapping reports, ${counts.resolved} resolved; ${counts.unhealthyFindings} unhealthy findings.`,
          `Calls made: ${calls} (goal: at most one per incident plus re-diagnoses on escalation = ${goal}: ${calls <= goal ? 'met' : 'MISSED'}); cache hits ${spent.cacheHits}.`,
          `Reduction vs. calling on every check: ${(reduction * 100).toFixed(3)} % (goal > 99 %). Full-design tokens and dollars are estimates from Reef's own average prompt (${Math.round(perCallIn)} in / ${Math.round(perCallOut)} out per call) at $${price.inputPerMTok}/$${price.outputPerMTok} per million tokens; the stand-in counts a token per 4 characters.`,
          `Wall time for the simulated week: ${(wallMs / 1000).toFixed(1)} s (real Redis, loopback stand-in).`,
        ],
        figures: {
          sweeps,
          targets,
          incidentsInjected: problems.length,
          events: counts,
          llmCalls: calls,
          goalCalls: goal,
          goalMet: calls <= goal,
          cacheHits: spent.cacheHits,
          inputTokens: spent.inputTokens,
          outputTokens: spent.outputTokens,
          costUsd: spent.costUsd,
          fullLlmCalls: fullCalls,
          fullLlmUsdEstimate: fullUsd,
          perUnhealthyFindingCalls: counts.unhealthyFindings,
          reductionPercent: reduction * 100,
          wallMs: Math.round(wallMs),
        },
      };
    } finally {
      await release();
    }
  },
};
