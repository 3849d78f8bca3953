import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CostLedger } from '../../src/diagnosis/ledger.js';
import { fingerprintOf } from '../../src/findings/finding.js';
import { startMetrics } from '../../src/metrics/start-metrics.js';
import { firstRoute, healthReport, startHttpServer } from '../../src/runtime/http-server.js';
import { type Role, startScheduler, startWorker } from '../../src/runtime/roles.js';
import { openRuntime, type Runtime } from '../../src/runtime/runtime.js';
import { checksQueue, SWEEP_JOB } from '../../src/schedule/queues.js';
import { RunningCli } from '../helpers/cli.js';
import { eventually } from '../helpers/eventually.js';
import {
  closedPort,
  startHttpServer as startTestServer,
  type TestHttpServer,
} from '../helpers/http-server.js';
import { dropPrefix, redisUrl, uniquePrefix } from '../helpers/redis.js';

/** One sample line of the Prometheus text format (0.0.4). */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * A strict reader of the Prometheus text exposition format: every line is a HELP, a TYPE, or a sample
 * of a family whose TYPE came first; names and label names are valid; label values are quoted with
 * only \\, \" and \n escapes; values are floats (or NaN, ±Inf); a family is declared once; histogram
 * buckets are cumulative and end at +Inf = _count. Throws naming the first bad line.
 */
function parsePrometheus(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const samples: Sample[] = [];
  const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  const lines = text.slice(0, -1).split('\n');
  lines.forEach((line, i) => {
    const fail: (why: string) => never = (why) => {
      throw new Error(`line ${i + 1} (${JSON.stringify(line)}): ${why}`);
    };
    if (line === '') return;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta as unknown as [string, string, string, string];
      if (!NAME.test(name)) fail('invalid metric name');
      if (kind === 'HELP') {
        if (helps.has(name)) fail('second HELP for a family');
        helps.add(name);
      } else {
        if (types.has(name)) fail('second TYPE for a family');
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest)) fail('unknown type');
        types.set(name, rest);
      }
      return;
    }
    if (line.startsWith('#')) return; // a comment
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)( -?\d+)?$/.exec(line);
    if (!m) fail('not a sample line');
    const [, name, , body, raw] = m as unknown as [
      string,
      string,
      string | undefined,
      string | undefined,
      string,
    ];
    const family = [name, name.replace(/_(bucket|sum|count)$/, '')].find((n) => types.has(n));
    if (!family) fail('sample before its TYPE');
    const labels: Record<string, string> = {};
    let rest = body ?? '';
    while (rest.length > 0) {
      const l = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/.exec(rest);
      if (!l) fail(`bad label set at ${JSON.stringify(rest)}`);
      if (l[1]! in labels) fail(`label ${l[1]} twice`);
      labels[l[1]!] = l[2]!.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
      rest = rest.slice(l[0].length);
    }
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : raw === 'NaN' ? NaN : Number(raw);
    if (raw !== 'NaN' && Number.isNaN(value)) fail('value is not a number');
    samples.push({ name, labels, value });
  });
  for (const [family, type] of types) {
    if (type !== 'histogram') continue;
    const series = new Map<string, Sample[]>();
    for (const s of samples.filter((x) => x.name === `${family}_bucket`)) {
      const { le, ...rest } = s.labels;
      const key = JSON.stringify(rest);
      series.set(key, [...(series.get(key) ?? []), s]);
    }
    for (const [key, buckets] of series) {
      for (let i = 1; i < buckets.length; i++)
        if (buckets[i]!.value < buckets[i - 1]!.value)
          throw new Error(`${family}${key}: buckets not cumulative`);
      const last = buckets.at(-1)!;
      const count = samples.find((x) => x.name === `${family}_count` && JSON.stringify(x.labels) === key);
      if (last.labels.le !== '+Inf' || last.value !== count?.value)
        throw new Error(`${family}${key}: the +Inf bucket must equal _count`);
    }
  }
  return { types, samples };
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    ?.value;
}

describe('the Prometheus text reader used below', () => {
  it('rejects what Prometheus would reject', () => {
    expect(() => parsePrometheus('reef_x 1\n')).toThrow(/sample before its TYPE/);
    expect(() => parsePrometheus('# TYPE reef_x gauge\nreef_x{a="b} 1\n')).toThrow(/bad label set/);
    expect(() => parsePrometheus('# TYPE reef_x gauge\nreef_x one\n')).toThrow(/not a number/);
    expect(() =>
      parsePrometheus(
        '# TYPE reef_h histogram\nreef_h_bucket{le="1"} 2\nreef_h_bucket{le="+Inf"} 1\nreef_h_count 1\n',
      ),
    ).toThrow(/not cumulative/);
    expect(
      parsePrometheus('# HELP reef_x a "gauge"\n# TYPE reef_x gauge\nreef_x{a="q\\"x"} 1.5e3\n').samples,
    ).toEqual([{ name: 'reef_x', labels: { a: 'q"x' }, value: 1500 }]);
  });
});

describe('/metrics and /healthz after a real sweep and a real run (real worker, Redis, loopback HTTP)', () => {
  let dir: string;
  let rt: Runtime;
  let api: TestHttpServer;
  let healthy = false;
  const roles: Role[] = [];
  let metrics: ReturnType<typeof startMetrics>;
  let http: Awaited<ReturnType<typeof startHttpServer>>;
  let base: string;

  beforeAll(async () => {
    // "api" answers 503 until its restart hook is called; "db" is down for good (no runbook: escalated).
    api = await startTestServer((req, res) => {
      if (req.url === '/restart') {
        healthy = true;
        res.writeHead(202).end('restarting');
      } else if (req.url === '/db') res.writeHead(500).end('down');
      else res.writeHead(healthy ? 200 : 503).end(healthy ? 'ok' : 'unavailable');
    });
    dir = mkdtempSync(path.join(tmpdir(), 'reef-metrics-'));
    mkdirSync(path.join(dir, 'runbooks'));
    writeFileSync(
      path.join(dir, 'runbooks', 'api-restart.md'),
      `---
id: api-restart
title: Restart the API through its admin hook
match: { check: http, condition: bad-status, target: api }
mode: auto
risk: low
steps:
  - http.request: { url: "${api.url}/restart", method: POST }
verify: { after: 1s }
---
# Restart the API through its admin hook
`,
    );
    const prefix = uniquePrefix('metrics');
    writeFileSync(
      path.join(dir, 'reef.yaml'),
      JSON.stringify({
        redis: { prefix },
        timezone: 'Europe/Berlin',
        runbooks: { dir: 'runbooks' },
        checks: {
          http: [
            { name: 'api', url: `${api.url}/`, retries: 0, timeoutMs: 2000 },
            { name: 'db', url: `${api.url}/db`, retries: 0, timeoutMs: 2000 },
          ],
        },
        llm: { monthlyBudgetUsd: 7 },
      }),
    );
    rt = await openRuntime({
      configFlag: path.join(dir, 'reef.yaml'),
      env: { REDIS_URL: redisUrl(), REEF_DATA_DIR: path.join(dir, 'data') },
      cwd: dir,
    });
    const log = pino({ level: 'silent' });
    metrics = startMetrics(rt, log);
    roles.push(startWorker(rt, log), metrics.role);
    http = await startHttpServer(
      0,
      '127.0.0.1',
      () => healthReport(rt, ['worker'], metrics.queues),
      firstRoute(metrics.route),
    );
    base = `http://127.0.0.1:${http.port}`;
  });

  afterAll(async () => {
    for (const role of roles.reverse()) await role.stop();
    await http?.close();
    await api?.close();
    if (rt) {
      await dropPrefix(rt.connection, rt.prefix);
      await rt.close();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  const scrape = async () => {
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    return parsePrometheus(await res.text());
  };

  it('counts the sweep, its probes, findings, the run and the incidents, in parseable text', async () => {
    // An LLM call as the diagnosis engineer's ledger records it (another process may have made it).
    await new CostLedger(rt.connection, rt.prefix, {
      timezone: 'Europe/Berlin',
      prices: rt.config.llm.prices,
    }).record(
      {
        incidentId: '9',
        fingerprint: 'f',
        model: rt.config.llm.model,
        inputTokens: 1000,
        outputTokens: 200,
        failed: false,
      },
      new Date(),
    );
    const queue = checksQueue(rt.redis.bullConnection(), rt.prefix);
    await queue.add(SWEEP_JOB, { trigger: 'test' });
    await queue.close();
    const apiFp = fingerprintOf('http', 'api', 'bad-status');
    const opened = await eventually('the api incident', () => rt.store.currentFor(apiFp));
    // The auto runbook runs on the execution worker, then the verification sweep resolves it.
    await eventually(
      'the api incident to resolve',
      async () => (await rt.store.get(opened.id))?.state === 'resolved',
    );
    const db = await eventually('the db incident to be escalated', async () => {
      const i = await rt.store.currentFor(fingerprintOf('http', 'db', 'bad-status'));
      return i?.state === 'escalated' ? i : undefined;
    });
    expect(db).toBeDefined();
    // The verification job resolves the incident just before it completes.
    await eventually('the verification job to complete', async () => {
      const counts = await metrics.queues.jobCounts();
      return counts.executions?.completed === 2 && counts.executions.active === 0;
    });

    const { types, samples } = await scrape();
    expect(samples.every((s) => s.name.startsWith('reef_'))).toBe(true);
    expect(types.get('reef_sweeps_total')).toBe('counter');
    expect(value(samples, 'reef_sweeps_total')).toBe(1); // the verification probe is not a sweep
    expect(value(samples, 'reef_sweep_duration_seconds_count')).toBe(1);
    expect(value(samples, 'reef_check_duration_seconds_count', { check: 'http' })).toBe(2);
    expect(value(samples, 'reef_findings_total', { check: 'http', severity: 'critical' })).toBe(2);
    expect(value(samples, 'reef_findings_total', { check: 'http', severity: 'ok' })).toBeUndefined();
    expect(value(samples, 'reef_executions_total', { runbook: 'api-restart', result: 'succeeded' })).toBe(1);
    expect(types.get('reef_incidents')).toBe('gauge');
    expect(value(samples, 'reef_incidents', { state: 'escalated' })).toBe(1);
    expect(value(samples, 'reef_incidents', { state: 'open' })).toBe(0);
    expect(value(samples, 'reef_incidents', { state: 'resolved' })).toBeUndefined();
    expect(value(samples, 'reef_incidents_closed')).toBe(1);
    expect(value(samples, 'reef_queue_workers', { queue: 'checks' })).toBe(1);
    expect(value(samples, 'reef_queue_workers', { queue: 'executions' })).toBe(1);
    expect(value(samples, 'reef_queue_jobs', { queue: 'checks', state: 'completed' })).toBe(1);
    expect(value(samples, 'reef_queue_jobs', { queue: 'executions', state: 'completed' })).toBe(2); // run + verify
    expect(value(samples, 'reef_queue_jobs', { queue: 'executions', state: 'delayed' })).toBe(0);
    expect(value(samples, 'reef_llm_calls_total')).toBe(1);
    expect(value(samples, 'reef_llm_tokens_total', { direction: 'input' })).toBe(1000);
    expect(value(samples, 'reef_llm_tokens_total', { direction: 'output' })).toBe(200);
    expect(value(samples, 'reef_llm_cost_dollars_total')).toBeCloseTo((1000 * 3 + 200 * 15) / 1e6, 9);
    expect(value(samples, 'reef_llm_month_cost_dollars')).toBeCloseTo(0.006, 9);
    expect(value(samples, 'reef_llm_monthly_budget_dollars')).toBe(7);
    for (const c of ['incidents', 'queues', 'workers', 'llm'])
      expect(value(samples, 'reef_metrics_collector_up', { collector: c })).toBe(1);
    // Node's process metrics, under Reef's prefix.
    expect(value(samples, 'reef_process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(types.get('reef_nodejs_eventloop_lag_seconds')).toBe('gauge');
  });

  it('/healthz names each unhealthy part, then turns healthy once a scheduler has run', async () => {
    const before = await fetch(`${base}/healthz`);
    expect(before.status).toBe(503);
    const body = (await before.json()) as { checks: Record<string, { ok: boolean; detail: string }> };
    expect(Object.keys(body.checks)).toEqual(['redis', 'schedulers', 'workers', 'roles']);
    expect(body.checks.redis?.ok).toBe(true);
    expect(body.checks.schedulers).toEqual({
      ok: false,
      detail: 'no sweep or brainstorm scheduler in Redis: is a `reef scheduler` (or `reef start`) running?',
    });
    expect(body.checks.workers).toEqual({
      ok: true,
      detail: '1 on checks, 1 on executions, 1 on brainstorm',
    });

    roles.push(await startScheduler(rt, pino({ level: 'silent' }), { runNow: false }));
    const after = await fetch(`${base}/healthz`);
    expect(after.status).toBe(200);
    expect(((await after.json()) as { status: string }).status).toBe('ok');
  });

  it('/healthz without workers, and without Redis, says which', async () => {
    const workerless = await healthReport(rt, ['bot'], {
      missingSchedulers: () => metrics.queues.missingSchedulers(),
      // What a deployment whose workers all stopped sees: none connected.
      workers: async () => ({ checks: 0, executions: 0 }),
    });
    expect(workerless.checks.workers).toEqual({
      ok: false,
      detail:
        'no worker on the checks and executions queues (0 on checks, 0 on executions): is a `reef worker` (or `reef start`) running?',
    });
    const dead = new Redis(`redis://127.0.0.1:${await closedPort()}`, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    dead.on('error', () => {});
    try {
      const report = await healthReport({ connection: dead, redis: rt.redis }, ['bot'], metrics.queues);
      expect(report.status).toBe('unhealthy');
      expect(report.checks.redis?.ok).toBe(false);
      expect(report.checks.redis?.detail).toMatch(/^Redis unreachable: /);
      expect(report.checks.schedulers?.detail).toBe('not checked: Redis is unreachable');
    } finally {
      dead.disconnect();
    }
  });

  it('answers HEAD, refuses POST, and leaves other paths to the next route', async () => {
    expect((await fetch(`${base}/metrics`, { method: 'HEAD' })).status).toBe(200);
    const post = await fetch(`${base}/metrics`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect((await fetch(`${base}/metricsx`)).status).toBe(404);
  });

  it('a lone `reef worker` serves /healthz and its own /metrics when REEF_HTTP_PORT is set, not /alertmanager', async () => {
    const worker = new RunningCli(['worker', '-c', path.join(dir, 'reef.yaml')], {
      env: {
        REDIS_URL: redisUrl(),
        REEF_HTTP_PORT: '0',
        REEF_DATA_DIR: path.join(dir, 'data'),
        REEF_ALERTMANAGER_TOKEN: 'x'.repeat(32),
      },
      cwd: dir,
    });
    try {
      const [, port] = await worker.waitFor(/Health: http:\/\/127\.0\.0\.1:(\d+)\/healthz/);
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(res.status).toBe(200);
      const { samples } = parsePrometheus(await res.text());
      expect(value(samples, 'reef_sweeps_total')).toBe(0); // its own counters: it has swept nothing yet
      expect(value(samples, 'reef_queue_workers', { queue: 'checks' })).toBe(2); // this test's worker and it
      const intake = await fetch(`http://127.0.0.1:${port}/alertmanager`, { method: 'POST' });
      expect(intake.status).toBe(404);
    } finally {
      expect(await worker.stop()).toBe(0);
    }
  });
});
