import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { systemClock } from '../src/adapters/clock.js';
import { deleteKeysUnder, type RedisHandle } from '../src/adapters/redis.js';
import { AuditLog } from '../src/audit/audit-log.js';
import { runSweep } from '../src/checks/sweep.js';
import { configSchema, type ReefConfig } from '../src/config/schema.js';
import { EventBus } from '../src/events/event-bus.js';
import { decideOpened } from '../src/execution/decide.js';
import type { ExecutionDeps } from '../src/execution/deps.js';
import type { ExecutionRecord } from '../src/execution/execution-record.js';
import { type ExecutionJobData, enqueueRun, executionsQueue } from '../src/execution/queue.js';
import { startExecutionWorker } from '../src/execution/worker.js';
import type { Incident } from '../src/incidents/incident.js';
import { IncidentStore } from '../src/incidents/store.js';
import { IncidentTracker } from '../src/incidents/tracker.js';
import { type Catalog, loadCatalog } from '../src/runbooks/catalog.js';
import { BUNDLED_RUNBOOKS_DIR } from '../src/runbooks/location.js';
import { createCheckContext } from '../src/runtime/check-context.js';
import { writeKubeconfig } from '../test/fixtures/kubeconfig.js';
import { reportExecutions } from './executions-report.js';
import type { Scenario } from './scenario.js';
import { benchRedis } from './support/bench-redis.js';
import { type EvictStandIn, type EvictStandInSpec, startEvictStandIn } from './support/evict-stand-in.js';

interface Setup extends EvictStandInSpec {
  workers: number;
  /** Every API answer is delayed this long once the incidents exist, so an execution takes real time. */
  apiLatencyMs: number;
  /** verify.after of the bench's runbook copy: verifications stay delayed jobs during the measurement. */
  verifyAfter: string;
  pollMs: number;
  completionTimeoutMs: number;
}

const FULL: Setup = {
  deployments: 100,
  namespaces: 10,
  podsPerDeployment: 2,
  workers: 2,
  apiLatencyMs: 20,
  verifyAfter: '10m',
  pollMs: 10,
  completionTimeoutMs: 40_000,
};

/** `--quick`: 20 targets, 40 incidents; still two per target, so the busy-target deferral happens. */
const QUICK: Setup = { ...FULL, deployments: 20, namespaces: 4 };

const RUNBOOK = 'pod-restart';
const TERMINAL = new Set(['succeeded', 'failed', 'refused', 'dry-run', 'interrupted']);

/**
 * 200 crash-looping pods (2 per Deployment, 100 Deployments = 100 targets of pod-restart's lock key
 * `{{facts.namespace}}/{{facts.ownerName}}`) become incidents through the real pods check, tracker and
 * decide (mode approve → awaiting-approval); then all 200 approvals are enqueued at once, each twice,
 * and 2 real execution workers (default concurrency and busy delay) run them against the API stand-in.
 */
export const executionsScenario: Scenario = {
  name: 'executions',
  description: `${FULL.deployments * FULL.podsPerDeployment} incidents approved at once across ${FULL.deployments} targets: executions/s, exactly-once, one execution per target at a time`,
  deadlineMs: 55_000,
  async run({ log, signal, quick }) {
    const setup = quick ? QUICK : FULL;
    const incidentCount = setup.deployments * setup.podsPerDeployment;
    if (quick) log(`quick: ${incidentCount} incidents on ${setup.deployments} targets`);
    const dir = await mkdtemp(path.join(tmpdir(), 'reef-bench-exec-'));
    const prefix = `reef-bench-exec-${process.pid}-${Date.now().toString(36)}`;
    let standIn: EvictStandIn | undefined;
    let redisHandle: RedisHandle | undefined;
    const connections: Redis[] = [];
    const closers: (() => Promise<unknown>)[] = [];
    let released = false;
    const release = async () => {
      if (released) return;
      released = true;
      for (const close of closers.splice(0).reverse()) await close().catch(() => {});
      const [first] = connections;
      if (first) await deleteKeysUnder(first, prefix).catch(() => {});
      for (const c of connections) c.disconnect();
      await redisHandle?.stop();
      await standIn?.stop();
      await rm(dir, { recursive: true, force: true });
    };
    signal.addEventListener('abort', () => void release(), { once: true });
    try {
      const { deployments, namespaces, podsPerDeployment } = setup;
      standIn = await startEvictStandIn({ deployments, namespaces, podsPerDeployment });
      log(`API server stand-in in child pid ${standIn.pid} at ${standIn.url}`);
      const kubeconfig = await writeKubeconfig(dir, [{ name: 'bench', server: standIn.url }]);
      redisHandle = await benchRedis(dir, log);
      const handle = redisHandle;
      const connect = () => {
        const c = handle.connect();
        connections.push(c);
        return c;
      };
      const config = configSchema.parse({
        redis: { prefix },
        clusters: { bench: { kubeconfig } },
        checks: { pods: [{ cluster: 'bench' }] },
      });
      const catalog = loadCatalog(await writeRunbook(dir, setup.verifyAfter));
      if (!catalog.get(RUNBOOK)) throw new Error(`the bench copy of ${RUNBOOK} did not load`);
      const redis = connect();
      const bull = handle.bullConnection();
      const queue = executionsQueue(bull, prefix);
      closers.push(() => queue.close());

      const incidents = await openIncidents(config, catalog, redis, prefix, queue);
      const awaiting = incidents.filter((i) => i.state === 'awaiting-approval');
      if (awaiting.length !== incidentCount)
        throw new Error(`expected ${incidentCount} incidents awaiting approval, got ${awaiting.length}`);
      log(`${awaiting.length} incidents awaiting approval`);
      await standIn.setLatency(setup.apiLatencyMs);
      signal.throwIfAborted();

      let attempts = 0;
      for (let w = 0; w < setup.workers; w++) {
        const deps = depsFor(config, catalog, connect(), prefix, bull);
        closers.push(() => deps.queue.close());
        const worker = startExecutionWorker(deps, { connection: bull });
        worker.worker.on('active', () => attempts++);
        closers.push(() => worker.stop());
        await worker.worker.waitUntilReady();
      }

      const approver = new AuditLog(redis, prefix, { clock: systemClock });
      const approve = async (incident: Incident, by: string) => {
        await approver.record({
          actor: by,
          action: 'approval',
          incidentId: incident.id,
          fingerprint: incident.fingerprint,
          runbookId: RUNBOOK,
          target: `${incident.check}/${incident.target}`,
          why: `approved runbook ${RUNBOOK} (bench)`,
        });
        await enqueueRun(queue, incident.id, RUNBOOK, by);
      };
      const t0 = Date.now();
      await Promise.all(awaiting.flatMap((i) => [approve(i, 'cli:alice'), approve(i, 'cli:bob')]));
      const enqueuedMs = Date.now() - t0;
      log(`${awaiting.length * 2} approvals (${awaiting.length} incidents × 2) enqueued in ${enqueuedMs} ms`);
      const records = await waitForRecords(setup, redis, prefix, awaiting, signal);
      const doneMs = Date.now() - t0;
      // Approved a third time after the fact: the job id (kept a day) and the record both stand.
      await Promise.all(awaiting.map((i) => approve(i, 'cli:carol')));
      await new Promise((r) => setTimeout(r, 300));
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
      const runJobs = (await queue.getJobs(['completed', 'failed', 'waiting', 'active', 'delayed'])).filter(
        (j) => j.data.kind === 'run',
      ).length;
      const stats = await standIn.stats();
      return reportExecutions({
        setup,
        pods: awaiting.map((i) => `${i.facts.namespace}/${i.facts.pod}`),
        records,
        targetOf: new Map(awaiting.map((i) => [i.id, `${i.facts.namespace}/${i.facts.ownerName}`])),
        t0,
        enqueuedMs,
        doneMs,
        attempts,
        counts,
        runJobs,
        stats,
      });
    } finally {
      await release();
    }
  },
};

/** The bundled pod-restart, limits raised above 2 runs per target and verification pushed past the run. */
async function writeRunbook(dir: string, verifyAfter: string): Promise<string> {
  const runbooks = path.join(dir, 'runbooks');
  await mkdir(runbooks);
  const text = (await readFile(path.join(BUNDLED_RUNBOOKS_DIR, `${RUNBOOK}.md`), 'utf8'))
    .replace('verify: { after: 2m }', `verify: { after: ${verifyAfter} }`)
    .replace('perTargetPerHour: 2', 'perTargetPerHour: 10')
    .replace('perTargetPerDay: 6', 'perTargetPerDay: 20');
  if (!text.includes('mode: approve') || !text.includes(`after: ${verifyAfter}`))
    throw new Error(`runbooks/${RUNBOOK}.md changed: the bench cannot make its copy`);
  await writeFile(path.join(runbooks, `${RUNBOOK}.md`), text);
  return runbooks;
}

/** A sweep through the real pods check and tracker, then `decide` on every opened incident. */
async function openIncidents(
  config: ReefConfig,
  catalog: Catalog,
  redis: Redis,
  prefix: string,
  queue: Queue<ExecutionJobData>,
): Promise<Incident[]> {
  const store = new IncidentStore(redis, prefix);
  const tracker = new IncidentTracker(store, systemClock);
  const { context, close } = createCheckContext(config, { clock: systemClock });
  let events: Awaited<ReturnType<IncidentTracker['ingest']>>;
  try {
    const run = await runSweep(config, context, { probeDeadlineMs: 20_000 });
    events = await tracker.ingest({ outcomes: run.outcomes, only: null }, config);
  } finally {
    await close();
  }
  const bus = new EventBus(redis, prefix);
  const audit = new AuditLog(redis, prefix, { clock: systemClock });
  await decideOpened(events, { catalog, store, bus, audit, clock: systemClock, queue });
  const opened = events.filter((e) => e.type === 'opened').map((e) => e.incident.id);
  return (await Promise.all(opened.map((id) => store.get(id)))).filter((i): i is Incident => i !== undefined);
}

/** One worker process's deps: its own connection, store, tracker, bus and audit, as `startExecutions`. */
function depsFor(
  config: ReefConfig,
  catalog: Catalog,
  redis: Redis,
  prefix: string,
  bull: { url?: string; path?: string },
): ExecutionDeps {
  const store = new IncidentStore(redis, prefix);
  return {
    config,
    clock: systemClock,
    store,
    tracker: new IncidentTracker(store, systemClock),
    bus: new EventBus(redis, prefix),
    audit: new AuditLog(redis, prefix, { clock: systemClock }),
    catalog,
    redis,
    prefix,
    dryRun: false,
    queue: executionsQueue(bull, prefix),
  };
}

async function waitForRecords(
  setup: Setup,
  redis: Redis,
  prefix: string,
  incidents: readonly Incident[],
  signal: AbortSignal,
): Promise<ExecutionRecord[]> {
  const keys = incidents.map((i) => `${prefix}:execution:${i.id}:${RUNBOOK}`);
  const deadline = Date.now() + setup.completionTimeoutMs;
  for (;;) {
    signal.throwIfAborted();
    const raw = await redis.mget(...keys);
    const records = raw.flatMap((r) => (r ? [JSON.parse(r) as ExecutionRecord] : []));
    if (records.length === keys.length && records.every((r) => TERMINAL.has(r.state))) return records;
    if (Date.now() > deadline)
      throw new Error(
        `only ${records.filter((r) => TERMINAL.has(r.state)).length} of ${keys.length} executions finished within ${setup.completionTimeoutMs} ms`,
      );
    await new Promise((r) => setTimeout(r, setup.pollMs));
  }
}
