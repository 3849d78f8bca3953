import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach } from 'vitest';
import { createAnthropicPort } from '../../src/adapters/anthropic.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import type { ProbeOutcome } from '../../src/checks/sweep.js';
import type { LlmConfig } from '../../src/config/llm-schema.js';
import { configSchema, type ReefConfig } from '../../src/config/schema.js';
import { AnthropicDiagnoser } from '../../src/diagnosis/anthropic-diagnoser.js';
import { DiagnosisCache } from '../../src/diagnosis/cache.js';
import type { ContextSource } from '../../src/diagnosis/context.js';
import type { Diagnoser } from '../../src/diagnosis/diagnoser.js';
import { CostLedger } from '../../src/diagnosis/ledger.js';
import { RuleDiagnoser } from '../../src/diagnosis/rule-diagnoser.js';
import { diagnoseStep } from '../../src/diagnosis/step.js';
import { EventBus } from '../../src/events/event-bus.js';
import type { IncidentEvent } from '../../src/events/incident-event.js';
import type { DecideDeps } from '../../src/execution/decide.js';
import { type ExecutionJobData, executionsQueue } from '../../src/execution/queue.js';
import { type Facts, type Finding, makeFinding, type Severity } from '../../src/findings/finding.js';
import type { Incident } from '../../src/incidents/incident.js';
import { IncidentStore } from '../../src/incidents/store.js';
import { IncidentTracker } from '../../src/incidents/tracker.js';
import { type Catalog, loadCatalog } from '../../src/runbooks/catalog.js';
import { BUNDLED_RUNBOOKS_DIR } from '../../src/runbooks/location.js';
import { type AnthropicApiServer, startAnthropicApiServer } from '../fixtures/anthropic-api-server.js';
import { removeRunbookDirs, runbookDir } from '../fixtures/runbooks/temp-runbooks.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { connect, dropPrefix, redisUrl, uniquePrefix } from '../helpers/redis.js';

export const API_KEY = 'sk-ant-api03-test-only-key';

/** A second runbook for OOM kills, so a diagnosis has two candidates to choose from. */
const OOM_WATCH = `---
id: oom-watch
title: Watch an OOM-killed pod settle
match: { check: pods, condition: OOMKilled }
mode: suggest
risk: low
steps:
  - wait: { for: 1s }
---
# Watch an OOM-killed pod settle

For a one-off OOM kill: wait and look again before restarting anything.
`;

/** The bundled runbooks plus oom-watch, in a temp folder. */
export function testCatalog(): Catalog {
  const files: Record<string, string> = { 'oom-watch.md': OOM_WATCH };
  for (const name of ['pod-restart.md', 'disk-cleanup.md', 'log-rotation.md', 'certificate-renewal.md'])
    files[name] = readFileSync(path.join(BUNDLED_RUNBOOKS_DIR, name), 'utf8');
  return loadCatalog(runbookDir(files)).requireValid();
}

export function podFacts(pod: string, extra: Facts = {}): Facts {
  return {
    cluster: 'lab',
    namespace: 'apps',
    pod,
    ownerKind: 'Deployment',
    ownerName: 'web',
    stateful: false,
    node: 'node-1',
    container: 'app',
    restartCount: 5,
    previousRestartCount: 3,
    lastTerminationReason: 'OOMKilled',
    exitCode: 137,
    ...extra,
  };
}

/**
 * Per test: a Redis prefix, a fake clock, the real store and tracker, and a local Messages API
 * stand-in; `diagnoser()` builds an AnthropicDiagnoser over the real SDK pointed at it.
 */
export function diagnosisHarness() {
  const state = {} as {
    redis: Redis;
    prefix: string;
    clock: FakeClock;
    store: IncidentStore;
    tracker: IncidentTracker;
    api: AnthropicApiServer;
    config: ReefConfig;
    catalog: Catalog;
    queue: Queue<ExecutionJobData>;
    audit: AuditLog;
    bus: EventBus;
  };
  beforeEach(async () => {
    state.redis = connect();
    state.prefix = uniquePrefix('diag');
    state.clock = new FakeClock('2026-11-28T10:00:00Z');
    state.store = new IncidentStore(state.redis, state.prefix);
    state.tracker = new IncidentTracker(state.store, state.clock);
    state.api = await startAnthropicApiServer({ apiKey: API_KEY });
    state.config = configSchema.parse({
      redis: { prefix: state.prefix },
      clusters: { lab: {} },
      checks: { pods: [{ cluster: 'lab' }], http: [{ name: 'api', url: 'http://127.0.0.1:9/' }] },
      llm: { baseUrl: state.api.url, monthlyBudgetUsd: 5, cacheTtl: '1h' },
    });
    state.catalog = testCatalog();
    state.queue = executionsQueue({ url: redisUrl() }, state.prefix);
    state.audit = new AuditLog(state.redis, state.prefix, { clock: state.clock });
    state.bus = new EventBus(state.redis, state.prefix);
  });
  afterEach(async () => {
    await state.queue.close();
    await state.api.close();
    await dropPrefix(state.redis, state.prefix);
    state.redis.disconnect();
    removeRunbookDirs();
  });

  const llm = (overrides: Partial<LlmConfig> = {}): LlmConfig => ({ ...state.config.llm, ...overrides });

  return {
    state,
    llm,
    ledger(overrides: Partial<LlmConfig> = {}) {
      return new CostLedger(state.redis, state.prefix, { timezone: 'UTC', prices: llm(overrides).prices });
    },
    /** A Claude diagnoser over the real SDK, talking to the stand-in. */
    diagnoser(overrides: Partial<LlmConfig> & { apiKey?: string } = {}) {
      const { apiKey, ...rest } = overrides;
      const config = llm(rest);
      return new AnthropicDiagnoser({
        port: createAnthropicPort({
          apiKey: apiKey ?? API_KEY,
          baseUrl: state.api.url,
          timeoutMs: config.timeoutMs,
          maxRetries: config.maxRetries,
        }),
        rules: new RuleDiagnoser(state.clock),
        cache: new DiagnosisCache(state.redis, state.prefix, 3_600_000),
        ledger: new CostLedger(state.redis, state.prefix, { timezone: 'UTC', prices: config.prices }),
        clock: state.clock,
        llm: config,
      });
    },
    /** What `decide` needs, with the diagnosis step over `diagnoser` (none: decide as before). */
    decideDeps(diagnoser?: Diagnoser, source?: ContextSource): DecideDeps {
      return {
        catalog: state.catalog,
        store: state.store,
        bus: state.bus,
        audit: state.audit,
        clock: state.clock,
        queue: state.queue,
        ...(diagnoser
          ? {
              diagnose: diagnoseStep({
                diagnoser,
                store: state.store,
                clock: state.clock,
                ...(source ? { source } : {}),
              }),
            }
          : {}),
      };
    },
    /** The events published so far. */
    async published(): Promise<IncidentEvent[]> {
      return (await state.redis.xrange(`${state.prefix}:events`, '-', '+')).map(
        ([, fields]) => JSON.parse(fields[1]!) as IncidentEvent,
      );
    },
    /** Run jobs queued, as `incident/runbook`. */
    async runs(): Promise<string[]> {
      const jobs = await state.queue.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed']);
      return jobs
        .map((j) => j.data)
        .filter((d): d is Extract<ExecutionJobData, { kind: 'run' }> => d.kind === 'run')
        .map((d) => `${d.incidentId}/${d.runbookId}`);
    },
    finding(
      check: Finding['check'],
      target: string,
      condition: string,
      severity: Severity,
      facts: Facts,
      summary?: string,
    ) {
      return makeFinding(
        { check, target, condition, severity, summary: summary ?? `${condition} on ${target}`, facts },
        state.clock.now(),
      );
    },
    /** Folds findings into incidents through the real tracker (one outcome per check and target). */
    async ingest(...findings: Finding[]): Promise<IncidentEvent[]> {
      const outcomes: ProbeOutcome[] = findings.map((f) => ({
        status: f.severity === 'ok' ? 'ok' : 'anomaly',
        check: f.check,
        target: f.check === 'pods' ? 'lab' : f.target,
        findings: [f],
        ...(f.check === 'pods' ? { covers: [f.target] } : {}),
      }));
      return state.tracker.ingest({ outcomes, only: null }, state.config);
    },
    async open(finding: Finding): Promise<Incident> {
      const events = await this.ingest(finding);
      const opened = events.find((e) => e.type === 'opened');
      if (!opened) throw new Error(`no incident opened for ${finding.target}`);
      return opened.incident;
    },
  };
}
