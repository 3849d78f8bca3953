import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach } from 'vitest';
import type { IncidentEvent } from '../../src/events/incident-event.js';
import { startAlertmanagerIntake } from '../../src/intake/start-intake.js';
import { startHttpServer } from '../../src/runtime/http-server.js';
import { openRuntime, type Runtime } from '../../src/runtime/runtime.js';
import { dropPrefix, redisUrl, uniquePrefix } from '../helpers/redis.js';

export const TOKEN = 'test-only-alertmanager-token-0123456789';

/** A runbook for one alert, reading the alert's labels as facts in its step. */
export const ALERT_RUNBOOK = `---
id: alert-pod-restart
title: Restart the pod a crash-loop alert names
match: { check: alert, condition: [KubePodCrashLooping] }
mode: approve
risk: low
steps:
  - kubernetes.deletePod:
      cluster: lab
      namespace: "{{facts.namespace}}"
      pod: "{{facts.pod}}"
      mode: evict
verify: { after: 2m }
---
# Restart the pod a crash-loop alert names

Alertmanager says a container keeps crashing: evict its pod so its controller starts a fresh one.
`;

/** One alert as Alertmanager 0.27+ sends it in a version 4 webhook body. */
export function alert(
  alertname: string | undefined,
  labels: Record<string, string>,
  status: 'firing' | 'resolved' = 'firing',
  annotations: Record<string, string> = {},
) {
  const all = { ...(alertname ? { alertname } : {}), ...labels };
  return {
    status,
    labels: all,
    annotations,
    startsAt: '2026-03-01T10:00:00.000Z',
    endsAt: status === 'resolved' ? '2026-03-01T10:30:00.000Z' : '0001-01-01T00:00:00Z',
    generatorURL: `http://prometheus.example.org:9090/graph?g0.expr=${alertname ?? 'up'}`,
    fingerprint: fingerprintOfLabels(all),
  };
}

function fingerprintOfLabels(labels: Record<string, string>): string {
  let h = 0xcbf29ce484222325n;
  for (const k of Object.keys(labels).sort())
    for (const ch of `${k}${labels[k]}`)
      h = ((h ^ BigInt(ch.charCodeAt(0))) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h.toString(16).padStart(16, '0');
}

/** A whole notification: the group's fields around `alerts`, as Alertmanager's webhook notifier builds it. */
export function notification(alerts: ReturnType<typeof alert>[], extra: Record<string, unknown> = {}) {
  const firing = alerts.some((a) => a.status === 'firing');
  return {
    receiver: 'reef',
    status: firing ? 'firing' : 'resolved',
    alerts,
    groupLabels: { namespace: 'apps' },
    commonLabels: { namespace: 'apps' },
    commonAnnotations: {},
    externalURL: 'http://alertmanager.example.org:9093',
    version: '4',
    groupKey: '{}:{namespace="apps"}',
    truncatedAlerts: 0,
    ...extra,
  };
}

export interface IntakeServer {
  rt: Runtime;
  url: string;
  logs: string[];
  post(
    body: unknown,
    init?: { token?: string | null; contentType?: string; raw?: string },
  ): Promise<Response>;
  events(): Promise<IncidentEvent[]>;
  close(): Promise<void>;
}

/**
 * Per test: a temp config (unique Redis prefix, `intake` as given) and runbooks folder, the real
 * runtime, the real intake route on Reef's real HTTP server on a loopback port. Everything is closed
 * and the prefix dropped after each test.
 */
export function intakeHarness() {
  const opened: IntakeServer[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  return async function start(
    options: {
      intake?: Record<string, unknown>;
      env?: Record<string, string>;
      runbooks?: Record<string, string>;
    } = {},
  ): Promise<IntakeServer> {
    const dir = mkdtempSync(path.join(tmpdir(), 'reef-intake-'));
    dirs.push(dir);
    const runbooks = path.join(dir, 'runbooks');
    mkdirSync(runbooks);
    for (const [name, text] of Object.entries(options.runbooks ?? { 'alert-pod-restart.md': ALERT_RUNBOOK }))
      writeFileSync(path.join(runbooks, name), text);
    const prefix = uniquePrefix('intake');
    const config = {
      redis: { prefix },
      clusters: { lab: {} },
      runbooks: { dir: runbooks },
      ...(options.intake ? { intake: options.intake } : {}),
    };
    const file = path.join(dir, 'reef.yaml');
    writeFileSync(file, JSON.stringify(config));
    const env = { REDIS_URL: redisUrl(), REEF_DATA_DIR: path.join(dir, 'data'), ...(options.env ?? {}) };
    const rt = await openRuntime({ configFlag: file, env, cwd: dir });
    const logs: string[] = [];
    const log = pino(
      { level: 'info' },
      new Writable({
        write(chunk, _enc, done) {
          logs.push(String(chunk));
          done();
        },
      }),
    );
    const intake = startAlertmanagerIntake(rt, log, env);
    const http = await startHttpServer(
      0,
      '127.0.0.1',
      async () => ({ status: 'ok', checks: {} }),
      intake.route,
    );
    const url = `http://127.0.0.1:${http.port}/alertmanager`;
    const server: IntakeServer = {
      rt,
      url,
      logs,
      post(body, init = {}) {
        const token = init.token === undefined ? TOKEN : init.token;
        return fetch(url, {
          method: 'POST',
          headers: {
            'content-type': init.contentType ?? 'application/json',
            ...(token === null ? {} : { authorization: `Bearer ${token}` }),
          },
          body: init.raw ?? JSON.stringify(body),
        });
      },
      async events() {
        const entries = await rt.connection.xrange(`${prefix}:events`, '-', '+');
        return entries.map(([, fields]) => JSON.parse(fields[fields.indexOf('event') + 1]!) as IncidentEvent);
      },
      async close() {
        await http.close();
        await intake.role.stop();
        await dropPrefix(rt.connection, prefix);
        await rt.close();
      },
    };
    opened.push(server);
    return server;
  };
}
