import { describe, expect, it } from 'vitest';
import { fingerprintOf } from '../../src/findings/finding.js';
import { alert, intakeHarness, notification, TOKEN } from './harness.js';

const crash = (pod: string, status: 'firing' | 'resolved' = 'firing') =>
  alert(
    'KubePodCrashLooping',
    { namespace: 'apps', pod, container: 'app', severity: 'critical', job: 'kube-state-metrics' },
    status,
    {
      summary: 'Pod is crash looping.',
      description: `Pod apps/${pod} (app) is restarting 2.1 times / 10 minutes.`,
    },
  );
const crashFingerprint = (pod: string) => fingerprintOf('alert', `apps/${pod}/app`, 'KubePodCrashLooping');

describe('POST /alertmanager (real HTTP on loopback, real tracker and Redis)', () => {
  const start = intakeHarness();

  it('a firing alert opens an incident, publishes it, and carries the labels as facts', async () => {
    const s = await start({ env: { REEF_ALERTMANAGER_TOKEN: TOKEN }, runbooks: {} });
    const res = await s.post(notification([crash('web-6b7-a')]));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { firing: number; events: { type: string; target: string }[] };
    expect(body.firing).toBe(1);
    expect(body.events.map((e) => [e.type, e.target])).toEqual([['opened', 'apps/web-6b7-a/app']]);
    const incident = await s.rt.store.currentFor(crashFingerprint('web-6b7-a'));
    expect(incident).toMatchObject({
      check: 'alert',
      condition: 'KubePodCrashLooping',
      target: 'apps/web-6b7-a/app',
      probe: 'alertmanager/KubePodCrashLooping',
      severity: 'critical',
      summary: 'Pod is crash looping.',
    });
    expect(incident!.facts).toEqual({
      alertname: 'KubePodCrashLooping',
      namespace: 'apps',
      pod: 'web-6b7-a',
      container: 'app',
      severity: 'critical',
      job: 'kube-state-metrics',
      summary: 'Pod is crash looping.',
      description: 'Pod apps/web-6b7-a (app) is restarting 2.1 times / 10 minutes.',
      startsAt: '2026-03-01T10:00:00.000Z',
      generatorURL: 'http://prometheus.example.org:9090/graph?g0.expr=KubePodCrashLooping',
      alertFingerprint: crash('web-6b7-a').fingerprint,
    });
    // Announced, then decided like a sweep's incident: no runbook in this folder, so a human decides.
    const events = await s.events();
    expect(events.map((e) => e.type)).toEqual(['opened', 'escalated']);
    expect(events[0]).toMatchObject({ incident: { id: incident!.id, check: 'alert' } });
  });

  it("a repeat (Alertmanager's repeat_interval) updates the incident without a new event", async () => {
    const s = await start({ env: { REEF_ALERTMANAGER_TOKEN: TOKEN }, runbooks: {} });
    await s.post(notification([crash('web-6b7-a')]));
    const before = (await s.events()).length;
    const again = await s.post(notification([crash('web-6b7-a')]));
    expect(again.status).toBe(200);
    expect(((await again.json()) as { events: unknown[] }).events).toEqual([]);
    expect(await s.events()).toHaveLength(before);
    const incident = await s.rt.store.currentFor(crashFingerprint('web-6b7-a'));
    expect(incident?.occurrences).toBe(2);
    expect(await s.rt.store.list()).toHaveLength(1);
  });

  it('a resolved alert resolves its incident', async () => {
    const s = await start({ env: { REEF_ALERTMANAGER_TOKEN: TOKEN }, runbooks: {} });
    await s.post(notification([crash('web-6b7-a')]));
    const id = (await s.rt.store.currentFor(crashFingerprint('web-6b7-a')))!.id;
    const res = await s.post(notification([crash('web-6b7-a', 'resolved')]));
    expect(((await res.json()) as { resolved: number }).resolved).toBe(1);
    expect((await s.rt.store.get(id))?.state).toBe('resolved');
    expect(await s.rt.store.currentFor(crashFingerprint('web-6b7-a'))).toBeUndefined();
    expect((await s.events()).at(-1)).toMatchObject({ type: 'resolved', incident: { id } });
  });

  it('a grouped notification: firing and resolved mixed, a repeat, an alert without alertname skipped', async () => {
    const s = await start({ env: { REEF_ALERTMANAGER_TOKEN: TOKEN }, runbooks: {} });
    const notReady = (status: 'firing' | 'resolved' = 'firing') =>
      alert('KubePodNotReady', { namespace: 'apps', pod: 'web-6b7-b', severity: 'warning' }, status);
    const notReadyFp = fingerprintOf('alert', 'apps/web-6b7-b', 'KubePodNotReady');
    await s.post(notification([crash('web-6b7-a'), notReady()]));
    const crashA = (await s.rt.store.currentFor(crashFingerprint('web-6b7-a')))!;

    const disk = alert('NodeFilesystemAlmostFull', {
      instance: 'web-1:9100',
      mountpoint: '/var',
      device: '/dev/sda2',
      severity: 'warning',
    });
    const res = await s.post(
      notification([
        crash('web-6b7-a', 'resolved'),
        notReady(), // repeat
        alert(undefined, { namespace: 'apps', severity: 'critical' }),
        crash('web-6b7-b'),
        disk,
      ]),
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      received: number;
      firing: number;
      resolved: number;
      skipped: { index: number; reason: string }[];
      events: { type: string; target: string; condition: string }[];
    };
    expect(body).toMatchObject({ received: 5, firing: 3, resolved: 1 });
    expect(body.skipped).toEqual([expect.objectContaining({ index: 2, reason: 'no alertname label' })]);
    expect(body.events.map((e) => `${e.type} ${e.condition} ${e.target}`).sort()).toEqual([
      'opened KubePodCrashLooping apps/web-6b7-b/app',
      'opened NodeFilesystemAlmostFull web-1:9100:/var',
      'resolved KubePodCrashLooping apps/web-6b7-a/app',
    ]);
    expect((await s.rt.store.get(crashA.id))?.state).toBe('resolved');
    expect((await s.rt.store.currentFor(notReadyFp))?.occurrences).toBe(2);
    const diskIncident = await s.rt.store.currentFor(
      fingerprintOf('alert', 'web-1:9100:/var', 'NodeFilesystemAlmostFull'),
    );
    expect(diskIncident?.severity).toBe('warning');

    // Resolving one alert of a target leaves another alert's incident on the same target alone.
    const sameTarget = alert('KubePodCrashLooping', { namespace: 'apps', pod: 'web-6b7-b' });
    await s.post(notification([sameTarget]));
    await s.post(notification([notReady('resolved')]));
    expect(await s.rt.store.currentFor(notReadyFp)).toBeUndefined();
    expect(
      await s.rt.store.currentFor(fingerprintOf('alert', 'apps/web-6b7-b', 'KubePodCrashLooping')),
    ).toBeDefined();
  });

  it('a full sweep leaves alert incidents alone: only Alertmanager resolves them', async () => {
    const s = await start({ env: { REEF_ALERTMANAGER_TOKEN: TOKEN }, runbooks: {} });
    await s.post(notification([crash('web-6b7-a')]));
    const { id } = (await s.rt.store.currentFor(crashFingerprint('web-6b7-a')))!;
    // A full sweep of a config with no check at all: every incident of an unconfigured probe resolves,
    // except those Alertmanager pushed.
    const events = await s.rt.tracker.ingest({ outcomes: [], only: null }, s.rt.config);
    expect(events).toEqual([]);
    expect((await s.rt.store.get(id))?.state).toBe('escalated');
    expect((await s.rt.store.currentFor(crashFingerprint('web-6b7-a')))?.id).toBe(id);
  });

  it('a matching runbook is proposed: the decision asks for approval with the label facts in its step', async () => {
    const s = await start({ env: { REEF_ALERTMANAGER_TOKEN: TOKEN } });
    const res = await s.post(notification([crash('web-6b7-a')]));
    const body = (await res.json()) as { events: { type: string }[]; decisionError?: string };
    expect(body.decisionError).toBeUndefined();
    const incident = await s.rt.store.currentFor(crashFingerprint('web-6b7-a'));
    expect(incident).toMatchObject({ state: 'awaiting-approval', proposedRunbookId: 'alert-pod-restart' });
    const asked = (await s.events()).find((e) => e.type === 'awaiting-approval');
    expect(asked?.note).toMatch(/runbook alert-pod-restart/);
    // {{facts.namespace}} and {{facts.pod}} came from the alert's labels.
    expect(asked?.note).toMatch(/POST \/api\/v1\/namespaces\/apps\/pods\/web-6b7-a\/eviction/);
  });

  it('an alert whose labels lack what the runbook reads is refused and escalated, not run', async () => {
    const s = await start({ env: { REEF_ALERTMANAGER_TOKEN: TOKEN } });
    await s.post(
      notification([alert('KubePodCrashLooping', { instance: 'web-1:8080', severity: 'critical' })]),
    );
    const incident = await s.rt.store.currentFor(fingerprintOf('alert', 'web-1:8080', 'KubePodCrashLooping'));
    expect(incident?.state).toBe('escalated');
    const escalated = (await s.events()).find((e) => e.type === 'escalated');
    expect(escalated?.note).toMatch(/facts\.namespace/);
  });
});

describe('POST /alertmanager refuses what it must, ingesting nothing', () => {
  const start = intakeHarness();
  const nothingIngested = async (s: Awaited<ReturnType<typeof start>>) => {
    expect(await s.rt.store.list()).toEqual([]);
    expect(await s.events()).toEqual([]);
  };

  it('401 without a bearer token or with a wrong one', async () => {
    const s = await start({ env: { REEF_ALERTMANAGER_TOKEN: TOKEN } });
    const none = await s.post(notification([crash('web-6b7-a')]), { token: null });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="reef"');
    expect(((await none.json()) as { error: string }).error).toMatch(
      /Authorization: Bearer header is required/,
    );
    const wrong = await s.post(notification([crash('web-6b7-a')]), { token: `${TOKEN}x` });
    expect(wrong.status).toBe(401);
    const body = (await wrong.json()) as { error: string; hint: string };
    expect(body.error).toMatch(/does not match/);
    expect(body.hint).toMatch(/http_config\.authorization/);
    const basic = await fetch(s.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}`,
      },
      body: JSON.stringify(notification([crash('web-6b7-a')])),
    });
    expect(basic.status).toBe(401);
    await nothingIngested(s);
  });

  it('is off without a token unless the config turns it on, and then it warns loudly', async () => {
    const off = await start();
    const res = await off.post(notification([crash('web-6b7-a')]), { token: null });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { hint: string }).hint).toMatch(/REEF_ALERTMANAGER_TOKEN/);
    await nothingIngested(off);

    const open = await start({ intake: { alertmanager: { enabled: true } }, runbooks: {} });
    expect(open.logs.join('')).toMatch(/UNAUTHENTICATED: POST \/alertmanager accepts alerts from anyone/);
    const ok = await open.post(notification([crash('web-6b7-a')]), { token: null });
    expect(ok.status).toBe(200);
    expect(await open.rt.store.list()).toHaveLength(1);

    const disabled = await start({
      intake: { alertmanager: { enabled: false } },
      env: { REEF_ALERTMANAGER_TOKEN: TOKEN },
    });
    expect((await disabled.post(notification([crash('web-6b7-a')]))).status).toBe(404);
  });

  it('400 for a body that is not JSON, naming the problem', async () => {
    const s = await start({ env: { REEF_ALERTMANAGER_TOKEN: TOKEN } });
    const res = await s.post(undefined, { raw: '{"alerts": [' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/not valid JSON/);
    await nothingIngested(s);
  });

  it('400 for JSON of the wrong shape, every problem by path, even when other alerts are fine', async () => {
    const s = await start({ env: { REEF_ALERTMANAGER_TOKEN: TOKEN } });
    const bad = notification([
      crash('web-6b7-a'),
      { ...crash('web-6b7-b'), labels: { alertname: 5 } } as never,
    ]);
    const res = await s.post({ ...bad, status: 'burning' });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; details: string[] };
    expect(body.error).toMatch(/not an Alertmanager webhook notification/);
    expect(body.details).toEqual([
      expect.stringMatching(/^status: /),
      expect.stringMatching(/^alerts\[1\]\.labels\.alertname: .*string/),
    ]);
    const noAlerts = await s.post({ receiver: 'reef', status: 'firing' });
    expect(((await noAlerts.json()) as { details: string[] }).details).toEqual([
      expect.stringMatching(/^alerts: /),
    ]);
    await nothingIngested(s);
  });

  it('415 for another content type, 413 for a body over intake.alertmanager.maxBodyBytes, 405 for GET', async () => {
    const s = await start({
      env: { REEF_ALERTMANAGER_TOKEN: TOKEN },
      intake: { alertmanager: { maxBodyBytes: 2048 } },
    });
    const form = await s.post(notification([crash('web-6b7-a')]), {
      contentType: 'application/x-www-form-urlencoded',
    });
    expect(form.status).toBe(415);
    const many = notification(Array.from({ length: 20 }, (_, i) => crash(`web-6b7-${i}`)));
    expect(JSON.stringify(many).length).toBeGreaterThan(2048);
    const big = await s.post(many);
    expect(big.status).toBe(413);
    expect(((await big.json()) as { hint: string }).hint).toMatch(/max_alerts/);
    const get = await fetch(s.url, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    await nothingIngested(s);
  });
});
