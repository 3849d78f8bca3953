import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { systemClock } from '../../src/adapters/clock.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { runSweep } from '../../src/checks/sweep.js';
import { configSchema, type ReefConfig } from '../../src/config/schema.js';
import { EventBus } from '../../src/events/event-bus.js';
import type { DecideDeps } from '../../src/execution/decide.js';
import type { ExecutionDeps } from '../../src/execution/deps.js';
import { type ExecutionJobData, executionsQueue } from '../../src/execution/queue.js';
import { fingerprintOf } from '../../src/findings/finding.js';
import type { Incident } from '../../src/incidents/incident.js';
import { IncidentStore } from '../../src/incidents/store.js';
import { IncidentTracker } from '../../src/incidents/tracker.js';
import { loadCatalog } from '../../src/runbooks/catalog.js';
import { BUNDLED_RUNBOOKS_DIR } from '../../src/runbooks/location.js';
import { createCheckContext } from '../../src/runtime/check-context.js';
import { makeReplicaSet, setContainer } from '../fixtures/kube-objects.js';
import { type FakeCluster, startFakeCluster } from '../fixtures/kubeconfig.js';
import { connect, dropPrefix, redisUrl, uniquePrefix } from '../helpers/redis.js';

/** The bundled pod-restart runbook, turned `auto` with a short verify and the limits a test needs. */
export function writeAutoPodRestart(limits = { perHour: 5, perDay: 10 }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'reef-exec-runbooks-'));
  const text = readFileSync(path.join(BUNDLED_RUNBOOKS_DIR, 'pod-restart.md'), 'utf8')
    .replace('mode: approve', 'mode: auto')
    .replace('verify: { after: 2m }', 'verify: { after: 1s }')
    .replace('perTargetPerHour: 2', `perTargetPerHour: ${limits.perHour}`)
    .replace('perTargetPerDay: 6', `perTargetPerDay: ${limits.perDay}`);
  writeFileSync(path.join(dir, 'pod-restart.md'), text);
  return dir;
}

/**
 * One fake cluster for the file; per test a Redis prefix, the real tracker, audit, bus and executions
 * queue, and the deps the execution worker and `decide` are built from.
 */
export function executionHarness() {
  let cluster: FakeCluster;
  const state = {} as {
    redis: Redis;
    prefix: string;
    store: IncidentStore;
    tracker: IncidentTracker;
    audit: AuditLog;
    queue: Queue<ExecutionJobData>;
    config: ReefConfig;
    deps: ExecutionDeps;
    decideDeps: DecideDeps;
  };
  const runbooksDir = writeAutoPodRestart();
  const closers: (() => Promise<unknown>)[] = [];
  beforeAll(async () => {
    cluster = await startFakeCluster();
    cluster.server.store.put(makeReplicaSet({ name: 'web-6b7', namespace: 'apps', deployment: 'web' }));
  });
  afterAll(async () => {
    await cluster?.close();
  });
  beforeEach(() => {
    const redis = connect();
    const prefix = uniquePrefix('exec');
    const config = configSchema.parse({
      redis: { prefix },
      clusters: { lab: { kubeconfig: cluster.kubeconfig, context: cluster.context } },
      checks: { pods: [{ cluster: 'lab', namespaces: ['apps'] }] },
    });
    const store = new IncidentStore(redis, prefix);
    const tracker = new IncidentTracker(store, systemClock);
    const audit = new AuditLog(redis, prefix, { clock: systemClock });
    const queue = executionsQueue({ url: redisUrl() }, prefix);
    const bus = new EventBus(redis, prefix);
    const catalog = loadCatalog(runbooksDir);
    Object.assign(state, { redis, prefix, store, tracker, audit, queue, config });
    state.deps = {
      config,
      clock: systemClock,
      store,
      tracker,
      bus,
      audit,
      catalog,
      redis,
      prefix,
      dryRun: false,
      queue,
    };
    state.decideDeps = { catalog, store, bus, audit, clock: systemClock, queue };
  });
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    await state.queue.close();
    const server = cluster.server;
    for (const pod of server.store.list(
      server.store.typeOf({ kind: 'Pod', apiVersion: 'v1', metadata: { name: 'x' } }),
    ))
      server.deletePod(pod.metadata.namespace!, pod.metadata.name);
    server.requests.length = 0;
    await dropPrefix(state.redis, state.prefix);
    state.redis.disconnect();
  });

  return {
    state,
    get cluster() {
      return cluster;
    },
    later(close: () => Promise<unknown>) {
      closers.push(close);
    },
    /** A crash-looping pod of `owner` (a ReplicaSet of Deployment web, or a StatefulSet). */
    crashingPod(
      name: string,
      owner: { kind: string; name: string } = { kind: 'ReplicaSet', name: 'web-6b7' },
    ) {
      cluster.server.addPod({ name, namespace: 'apps', owner });
      cluster.server.updatePod('apps', name, (p) =>
        setContainer(p, {
          name: 'app',
          state: 'CrashLoopBackOff',
          restartCount: 4,
          lastTermination: { reason: 'Error', exitCode: 1 },
        }),
      );
    },
    /** A sweep of the pods probe through the real tracker; returns the incident of `pod`. */
    async sweep(pod?: string): Promise<Incident | undefined> {
      const { context, close } = createCheckContext(state.config, { clock: systemClock });
      try {
        const run = await runSweep(state.config, context, { only: 'lab' });
        await state.tracker.ingest({ outcomes: run.outcomes, only: run.only }, state.config);
      } finally {
        await close();
      }
      return pod
        ? state.store.currentFor(fingerprintOf('pods', `apps/${pod}`, 'CrashLoopBackOff'))
        : undefined;
    },
    evictions(pod: string): number {
      return cluster.server.count({ resource: 'pods/eviction', name: pod });
    },
    async actions(incidentId: string): Promise<string[]> {
      return (await state.audit.read({ incidentId })).map((e) => e.action);
    },
  };
}
