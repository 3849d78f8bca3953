import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveRedis } from '../../src/adapters/redis.js';
import { parseSentinelUrl, sentinelTarget } from '../../src/adapters/redis-sentinel.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import type { SweepResult } from '../../src/checks/sweep.js';
import { readEnv } from '../../src/env.js';
import { isReefError } from '../../src/errors.js';
import { ExecutionRecords } from '../../src/execution/execution-record.js';
import { executionsQueue, runJobId } from '../../src/execution/queue.js';
import { fingerprintOf } from '../../src/findings/finding.js';
import { IncidentStore } from '../../src/incidents/store.js';
import { createLogger } from '../../src/runtime/logger.js';
import { type Role, startWorker } from '../../src/runtime/roles.js';
import { openRuntime, type Runtime } from '../../src/runtime/runtime.js';
import { checksQueue, SWEEP_JOB } from '../../src/schedule/queues.js';
import {
  type SentinelSetup,
  sentinelBinariesMissing,
  startSentinelSetup,
} from '../fixtures/redis-sentinel.js';
import { eventually } from '../helpers/eventually.js';
import { closedPort, startHttpServer, type TestHttpServer } from '../helpers/http-server.js';
import { uniquePrefix } from '../helpers/redis.js';

/** Catches the ReefError a call throws (fails the test if it throws nothing). */
function thrown(fn: () => unknown): {
  code: string;
  message: string;
  hint: string;
  details: readonly string[];
} {
  try {
    fn();
  } catch (error) {
    if (!isReefError(error)) throw error;
    return { code: error.code, message: error.message, hint: error.hint ?? '', details: error.details };
  }
  throw new Error('expected a ReefError, nothing was thrown');
}

describe('Sentinel settings from the environment', () => {
  const target = (env: NodeJS.ProcessEnv) => {
    const read = readEnv(env, '/tmp');
    return sentinelTarget({
      url: read.redisUrl,
      urlExplicit: read.redisUrlExplicit,
      sentinel: read.redisSentinel,
      password: read.redisPassword,
    });
  };

  it('REDIS_SENTINELS + REDIS_SENTINEL_NAME (+ passwords) become ioredis Sentinel settings', () => {
    expect(
      target({
        REDIS_SENTINELS: '10.0.0.1:26379, sentinel-b:26380,[::1]:26381,sentinel-c',
        REDIS_SENTINEL_NAME: 'mymaster',
        REDIS_SENTINEL_PASSWORD: 's3nt',
        REDIS_PASSWORD: 'r3dis',
      }),
    ).toEqual({
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: 'sentinel-b', port: 26380 },
        { host: '::1', port: 26381 },
        { host: 'sentinel-c', port: 26379 },
      ],
      name: 'mymaster',
      sentinelPassword: 's3nt',
      password: 'r3dis',
    });
    expect(target({ REDIS_URL: 'redis://127.0.0.1:6379' })).toBeUndefined();
    expect(target({})).toBeUndefined();
  });

  it('the URL form: redis+sentinel://[user:password@]host:port,host:port/name[/db]', () => {
    expect(parseSentinelUrl('redis+sentinel://reef:p%40ss@s1:26379,s2:26380/mymaster/2')).toEqual({
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26380 },
      ],
      name: 'mymaster',
      username: 'reef',
      password: 'p@ss',
      db: 2,
    });
    // REDIS_PASSWORD fills a URL without one; REDIS_SENTINEL_PASSWORD is the Sentinels' own.
    expect(
      target({
        REDIS_URL: 'redis+sentinel://s1/mymaster',
        REDIS_PASSWORD: 'r3dis',
        REDIS_SENTINEL_PASSWORD: 's3nt',
      }),
    ).toEqual({
      sentinels: [{ host: 's1', port: 26379 }],
      name: 'mymaster',
      password: 'r3dis',
      sentinelPassword: 's3nt',
    });
  });

  it('bad values are a reef_config_invalid error naming the variable, listing every bad entry', () => {
    const list = thrown(() =>
      target({ REDIS_SENTINELS: 's1:26379,,s2:99999,s 3:1,s4:port', REDIS_SENTINEL_NAME: 'mymaster' }),
    );
    expect(list).toMatchObject({ code: 'reef_config_invalid', message: 'REDIS_SENTINELS has 4 problems' });
    expect(list.details).toEqual([
      'entry 2 is empty (a stray comma?)',
      'entry 3 "s2:99999": port 99999 is not between 1 and 65535',
      'entry 4 "s 3:1" is not host:port',
      'entry 5 "s4:port" is not host:port',
    ]);
    expect(list.hint).toMatch(/REDIS_SENTINELS=host:port,host:port/);

    expect(thrown(() => target({ REDIS_SENTINELS: 's1:26379' }))).toMatchObject({
      code: 'reef_config_invalid',
      message: 'REDIS_SENTINELS is set but REDIS_SENTINEL_NAME is not',
      hint: expect.stringMatching(/sentinel monitor <name>/),
    });
    expect(thrown(() => target({ REDIS_SENTINEL_NAME: 'mymaster' })).message).toBe(
      'REDIS_SENTINEL_NAME is set but REDIS_SENTINELS is not',
    );
    expect(thrown(() => target({ REDIS_SENTINELS: 's1', REDIS_SENTINEL_NAME: 'my master' })).message).toBe(
      'REDIS_SENTINEL_NAME: the master name "my master" is not valid',
    );
    const both = thrown(() =>
      target({ REDIS_URL: 'redis://:hunter2@db:6379', REDIS_SENTINELS: 's1', REDIS_SENTINEL_NAME: 'm' }),
    );
    expect(both.message).toBe(
      'REDIS_URL (redis://:***@db:6379) and REDIS_SENTINELS/REDIS_SENTINEL_NAME are both set',
    );
    expect(thrown(() => target({ REDIS_SENTINEL_PASSWORD: 'x' })).message).toBe(
      'REDIS_SENTINEL_PASSWORD is set but no Sentinel is configured',
    );
    expect(thrown(() => target({ REDIS_URL: 'redis+sentinel://s1:26379' })).message).toBe(
      'REDIS_URL (redis+sentinel://s1:26379) has no master name after the Sentinels',
    );
    expect(thrown(() => target({ REDIS_URL: 'redis+sentinel://:pw@s1/m?sentinelPassword=x' })).message).toBe(
      'REDIS_URL (redis+sentinel://:***@s1/m?sentinelPassword=x): query strings and fragments are not supported here',
    );
    expect(thrown(() => target({ REDIS_URL: 'redis+sentinel://s1/m/zero' })).message).toMatch(
      /the database "zero" is not a number/,
    );
  });

  it('Sentinels that do not answer: reef_redis_unavailable naming the master and the Sentinels, no password', async () => {
    const port = await closedPort();
    const error = await resolveRedis({
      url: 'redis://127.0.0.1:6379',
      explicit: false,
      dataDir: '/nonexistent',
      mayStartPrivate: true,
      sentinel: { sentinels: `127.0.0.1:${port}`, name: 'mymaster', sentinelPassword: 'hunter2' },
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({
      code: 'reef_redis_unavailable',
      message: expect.stringMatching(
        new RegExp(
          `^Redis is not reachable through Sentinel master "mymaster" via 127\\.0\\.0\\.1:${port} \\(All sentinels are unreachable`,
        ),
      ),
      hint: expect.stringMatching(/SENTINEL get-master-addr-by-name mymaster/),
    });
    expect(JSON.stringify(error)).not.toMatch(/hunter2/);
  });
});

/**
 * A real failover under load: Reef's worker role (the checks, executions and brainstorm workers, over
 * BullMQ) on a master found through three Sentinels. A sweep and a runbook execution are each held
 * mid-flight by a loopback HTTP server; the master is SIGKILLed; Sentinel promotes the replica; the
 * held requests are answered; both jobs must then finish exactly once, with every record in place.
 */
describe('Redis Sentinel failover with a sweep and an execution in flight', () => {
  let setup: SentinelSetup;
  let rt: Runtime;
  let worker: Role | undefined;
  let service: TestHttpServer;
  const dir = mkdtempSync(path.join(tmpdir(), 'reef-sentinel-test-'));
  const prefix = uniquePrefix('sentinel');
  let apiStatus = 500;
  let holding = true;
  const held: (() => void)[] = [];

  beforeAll(async () => {
    const missing = sentinelBinariesMissing();
    if (missing)
      throw new Error(
        `${missing} not installed: \`apt-get install redis-server redis-sentinel\` (.ci/run does this)`,
      );
    setup = await startSentinelSetup();
    service = await startHttpServer((req: IncomingMessage, res: ServerResponse) => {
      req.resume();
      if (req.url === '/api') return void res.writeHead(apiStatus).end();
      const answer = () => res.writeHead(req.url === '/fix' ? 204 : 200).end();
      if (holding) held.push(answer);
      else answer();
    });
    mkdirSync(path.join(dir, 'runbooks'));
    writeFileSync(
      path.join(dir, 'runbooks', 'api-hook.md'),
      [
        '---',
        'id: api-hook',
        "title: Call the API's restart hook",
        'match: { check: http, condition: bad-status, target: api }',
        'mode: auto',
        'risk: low',
        'steps:',
        `  - http.request: { url: "${service.url}/fix", method: POST, timeout: 60s }`,
        'verify: { after: 1s }',
        '---',
        'Calls the restart hook of the API when it answers with a bad status.',
        '',
      ].join('\n'),
    );
    writeFileSync(
      path.join(dir, 'reef.yaml'),
      [
        `redis: { prefix: ${prefix} }`,
        'sweep: { runOnStart: false }',
        'memory: { enabled: false }',
        'checks:',
        '  http:',
        `    - { name: api, url: "${service.url}/api", retries: 0, timeoutMs: 5000 }`,
        `    - { name: slow, url: "${service.url}/slow", retries: 0, timeoutMs: 60000 }`,
        'runbooks: { dir: ./runbooks }',
        '',
      ].join('\n'),
    );
    rt = await openRuntime({
      configFlag: path.join(dir, 'reef.yaml'),
      cwd: dir,
      env: {
        PATH: process.env.PATH,
        HOME: dir,
        REEF_DATA_DIR: path.join(dir, 'data'),
        REDIS_SENTINELS: setup.sentinelList,
        REDIS_SENTINEL_NAME: setup.masterName,
        REDIS_SENTINEL_PASSWORD: setup.sentinelPassword,
        REDIS_PASSWORD: setup.password,
      },
    });
  });

  afterAll(async () => {
    holding = false;
    for (const answer of held.splice(0)) answer();
    await worker?.stop();
    await rt?.close();
    await service?.close();
    await setup?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('REDIS_PASSWORD authenticates a plain REDIS_URL that carries none', async () => {
    const url = `redis://127.0.0.1:${setup.replica.port}`;
    const options = { url, explicit: true, dataDir: dir, mayStartPrivate: false };
    await expect(resolveRedis(options)).rejects.toMatchObject({
      code: 'reef_redis_unavailable',
      message: expect.stringMatching(/NOAUTH/),
    });
    const handle = await resolveRedis({ ...options, password: setup.password });
    expect(handle.bullConnection()).toEqual({ url, password: setup.password });
    const client = handle.connect();
    try {
      expect(await client.ping()).toBe('PONG');
    } finally {
      client.disconnect();
      await handle.stop();
    }
  });

  it('kills the master mid-sweep and mid-execution: both jobs complete exactly once, nothing is lost', async () => {
    expect(rt.redis.label).toBe(
      `Sentinel master "${setup.masterName}" via ${setup.sentinels.map((s) => `127.0.0.1:${s.port}`).join(',')}`,
    );
    expect(rt.redis.bullConnection()).toMatchObject({ name: setup.masterName, password: setup.password });
    worker = startWorker(rt, createLogger('silent'));
    const checks = checksQueue(rt.redis.bullConnection(), prefix);
    const executions = executionsQueue(rt.redis.bullConnection(), prefix);
    // While there is no master, each connection reports ECONNREFUSED; BullMQ prints those to stderr
    // when a queue has no 'error' listener.
    for (const queue of [checks, executions]) queue.on('error', () => {});
    try {
      // An unhealthy API opens an incident; its auto runbook's webhook call is held: an execution in flight.
      await checks.add(SWEEP_JOB, { trigger: 'test', only: 'api' }, { jobId: 'sweep-api' });
      await eventually('the runbook to call /fix', async () => service.hits.get('/fix') === 1, 15_000);
      const incident = (await rt.store.currentFor(fingerprintOf('http', 'api', 'bad-status')))!;
      const runJob = runJobId(incident.id, 'api-hook');
      // A second sweep, held while it probes /slow: a sweep in flight.
      await checks.add(SWEEP_JOB, { trigger: 'test', only: 'slow' }, { jobId: 'sweep-slow' });
      await eventually('the sweep to probe /slow', async () => service.hits.get('/slow') === 1, 15_000);
      expect(await (await checks.getJob('sweep-slow'))!.getState()).toBe('active');
      expect(await (await executions.getJob(runJob))!.getState()).toBe('active');

      // Replication is asynchronous: WAIT makes sure the replica holds everything the master
      // acknowledged so far (the jobs' active state and locks, the incident, the execution record),
      // so what this test checks is Reef's recovery, not Redis' documented loss window.
      expect(await setup.client(setup.master).call('WAIT', '1', '5000')).toBe(1);
      await setup.killMaster();
      await setup.waitForPromotion();
      expect(await setup.masterPort()).toBe(setup.replica.port);

      apiStatus = 200; // the fix "worked": verification finds the API healthy
      holding = false;
      for (const answer of held.splice(0)) answer();

      const done = await eventually(
        'the sweep and the execution to finish and the incident to resolve',
        async () => {
          const [sweep, run, now] = await Promise.all([
            checks.getJob('sweep-slow'),
            executions.getJob(runJob),
            rt.store.get(incident.id),
          ]);
          const states = await Promise.all([sweep?.getState(), run?.getState()]);
          return states.every((s) => s === 'completed') && now?.state === 'resolved'
            ? { sweep: sweep!, run: run!, now }
            : undefined;
        },
        20_000,
      );

      // Each in-flight job ran once: one probe of /slow, one webhook call, one start each.
      expect(service.hits.get('/slow')).toBe(1);
      expect(service.hits.get('/fix')).toBe(1);
      expect(done.sweep.attemptsStarted).toBe(1);
      expect(done.run.attemptsStarted).toBe(1);
      expect(done.run.returnvalue).toBe('succeeded');
      const sweepResult = done.sweep.returnvalue as SweepResult;
      expect(sweepResult.findings).toEqual([
        expect.objectContaining({ check: 'http', target: 'slow', severity: 'ok' }),
      ]);
      expect(done.now.history.map((h) => h.state)).toEqual([
        'open',
        'diagnosed',
        'executing',
        'verifying',
        'resolved',
      ]);

      // The records are on the promoted replica itself, read directly (not through Sentinel).
      const direct = setup.client(setup.replica);
      const record = (await new ExecutionRecords(direct, prefix).get(incident.id, 'api-hook'))!;
      expect(record).toMatchObject({ state: 'succeeded', by: 'reef' });
      expect(record.steps).toEqual([
        expect.objectContaining({
          ok: true,
          type: 'http.request',
          summary: `POST ${service.url}/fix answered 204`,
        }),
      ]);
      expect((await new IncidentStore(direct, prefix).get(incident.id))?.state).toBe('resolved');
      const actions = (await new AuditLog(direct, prefix).read({ incidentId: incident.id })).map(
        (e) => e.action,
      );
      expect(actions.filter((a) => a === 'step')).toHaveLength(1);
      expect(actions).toEqual(expect.arrayContaining(['decision', 'execution', 'step', 'verification']));
      // The first sweep (before the failover) is still recorded as completed, once.
      const first = await Job.fromId(checks, 'sweep-api');
      expect(await first?.getState()).toBe('completed');
      expect(first?.attemptsStarted).toBe(1);
      expect(await executions.getJobCounts('failed')).toEqual({ failed: 0 });
    } finally {
      await checks.close();
      await executions.close();
    }
  });
});
