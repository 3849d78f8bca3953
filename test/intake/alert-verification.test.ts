import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startDeciding, startExecutions } from '../../src/execution/start.js';
import { fingerprintOf } from '../../src/findings/finding.js';
import { eventually } from '../helpers/eventually.js';
import { alert, intakeHarness, notification } from './harness.js';

/** A webhook the runbook calls (its "fix"), on loopback; counts its calls. */
async function webhook() {
  let calls = 0;
  const server = createServer((_req, res) => {
    calls++;
    res.writeHead(204).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls: () => calls,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const runbook = (url: string) => `---
id: alert-queue-restart
title: Restart the consumer a queue-backlog alert names
match: { check: alert, condition: [QueueBacklog] }
mode: auto
risk: low
steps:
  - http.request: { url: "${url}/restart", method: POST }
verify: { after: 1s }
---
# Restart the consumer

Alertmanager says the queue backs up: ask the consumer to restart through its admin hook.
`;

/**
 * An alert's incident cannot be probed again after a run: the verification waits for Alertmanager's own
 * "resolved", looking again every `verify.after`, and escalates when it never comes.
 */
describe('verifying a runbook run for an alert (real intake, worker and Redis)', () => {
  const start = intakeHarness();
  const closers: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  async function setUp() {
    const hook = await webhook();
    closers.push(hook.close);
    const s = await start({
      env: { REEF_ALERTMANAGER_TOKEN: 'test-only-alertmanager-token-0123456789' },
      runbooks: { 'alert-queue-restart.md': runbook(hook.url) },
    });
    const log = pino({ level: 'silent' });
    const deciding = startDeciding(s.rt, log);
    const worker = startExecutions(s.rt, deciding.deps(), log);
    closers.push(async () => {
      await worker.stop();
      await deciding.close();
    });
    const firing = alert('QueueBacklog', { job: 'orders-consumer', severity: 'warning' });
    return { s, hook, firing, fingerprint: fingerprintOf('alert', 'orders-consumer', 'QueueBacklog') };
  }

  it("Alertmanager's resolved notification after the run verifies the fix", async () => {
    const { s, hook, firing, fingerprint } = await setUp();
    await s.post(notification([firing]));
    const id = (await s.rt.store.currentFor(fingerprint))!.id;
    await eventually('the run to finish and wait for the source', async () => {
      return hook.calls() === 1 && (await s.rt.store.get(id))?.state === 'verifying';
    });
    // The first looks find it still firing: the verification waits instead of escalating.
    await new Promise((r) => setTimeout(r, 1500));
    expect((await s.rt.store.get(id))?.state).toBe('verifying');
    await s.post(notification([{ ...firing, status: 'resolved' }]));
    await eventually('the verified event', async () =>
      (await s.events()).some((e) => e.type === 'verified' && e.incident.id === id),
    );
    const verified = (await s.events()).find((e) => e.type === 'verified');
    expect(verified?.note).toMatch(/resolved after runbook alert-queue-restart .*before the check ran again/);
    expect((await s.rt.store.get(id))?.state).toBe('resolved');
    expect(hook.calls()).toBe(1);
  });

  it('an alert still firing after every look escalates, saying the source never reported it resolved', async () => {
    const { s, hook, firing, fingerprint } = await setUp();
    await s.post(notification([firing]));
    const id = (await s.rt.store.currentFor(fingerprint))!.id;
    const escalated = await eventually(
      'the escalation',
      async () => {
        const now = await s.rt.store.get(id);
        return now?.state === 'escalated' ? now : undefined;
      },
      20_000,
    );
    expect(escalated.history.at(-1)?.note).toMatch(
      /verification failed after runbook alert-queue-restart: the alert QueueBacklog is still firing after 6 looks/,
    );
    expect(hook.calls()).toBe(1);
  }, 30_000);
});
