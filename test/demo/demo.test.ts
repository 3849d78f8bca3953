import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { runDemo } from '../../src/demo/run-demo.js';
import { assertDemoKubeconfig, DEMO_CONTEXT } from '../../src/demo/simulated-cluster.js';
import { writeKubeconfig } from '../../src/stand-ins/kubernetes/kubeconfig.js';
import { redisUrl } from '../helpers/redis.js';

/** `reef demo`, for real: stand-ins on loopback, the real worker, runbooks, verification and Brainstorm. */
describe('reef demo (a short run of the simulation)', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('detects each simulated problem, fixes the auto one, gets the approved one done and verified, escalates the rest, and writes a Brainstorm report', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    const result = await runDemo(
      { seconds: 24, sweepEvery: 3, approveAfter: 1 },
      {
        out,
        err: new PassThrough(),
        env: { ...process.env, REDIS_URL: redisUrl(), ANTHROPIC_API_KEY: '', SLACK_BOT_TOKEN: '' },
        cwd: process.cwd(),
        color: false,
      },
    );
    // Without --keep the demo removes its folder and its Redis keys.
    expect(existsSync(result.dir)).toBe(false);
    expect(text).toMatch(/REEF DEMO — a SIMULATION/);
    const byCheck = (check: string) => result.incidents.filter((i) => i.check === check);
    // The crash-looping pod: pod-restart is auto, so Reef evicted it and the incident closed.
    expect(byCheck('pods')[0]).toMatchObject({ condition: 'CrashLoopBackOff', state: 'resolved' });
    expect(text).toMatch(/evicted pod shop\/checkout-7d9f-x2x4z on cluster demo/);
    // The full disk: asked, approved by the simulated operator, cleaned and rotated, verified.
    const disk = byCheck('disk')[0];
    expect(disk).toMatchObject({ condition: 'disk-critical', state: 'resolved' });
    expect(disk?.history.map((h) => h.state)).toEqual(
      expect.arrayContaining(['awaiting-approval', 'executing', 'verifying', 'resolved']),
    );
    expect(text).toMatch(/\(simulation\) the demo operator approves #\d+/);
    expect(text).toMatch(/runbook disk-cleanup ran all 5 steps: freed \d+ MiB in all/);
    // The error spike has no runbook: escalated with its context.
    expect(byCheck('errorLogs')[0]).toMatchObject({ condition: 'error-spike', state: 'escalated' });
    // The certificate: proposed (suggest mode), never run.
    expect(byCheck('certificate')[0]).toMatchObject({ condition: 'expiring' });
    expect(text).toMatch(/SUGGESTION #\d+ certificate\/shop-tls: runbook certificate-renewal/);
    // The flapping service opened more than once.
    expect(byCheck('http').length).toBeGreaterThanOrEqual(2);
    expect(result.audit).toMatchObject({ approval: 1, verification: expect.any(Number) });
    expect(result.brainstorm?.path).toMatch(/memory\/brainstorm\/\d{4}-\d{2}-\d{2}\.md$/);
  }, 90_000);

  it('refuses a kubeconfig that is not its own stand-in', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'reef-demo-refuse-'));
    dirs.push(dir);
    const real = await writeKubeconfig(dir, [{ name: 'prod', server: 'https://10.0.0.1:6443' }], {
      file: 'prod',
    });
    expect(() => assertDemoKubeconfig(real)).toThrow(
      /The demo refuses the kubeconfig .*prod: its current context is "prod" \(server https:\/\/10\.0\.0\.1:6443\)/,
    );
    const named = await writeKubeconfig(dir, [{ name: DEMO_CONTEXT, server: 'https://10.0.0.1:6443' }], {
      file: 'named-like-the-demo',
    });
    expect(() => assertDemoKubeconfig(named)).toThrow(/not the demo's own "reef-demo" on loopback/);
    const own = await writeKubeconfig(dir, [{ name: DEMO_CONTEXT, server: 'http://127.0.0.1:9' }], {
      file: 'own',
    });
    expect(() => assertDemoKubeconfig(own)).not.toThrow();
    await writeFile(path.join(dir, 'broken'), 'not: [yaml');
    expect(() => assertDemoKubeconfig(path.join(dir, 'broken'))).toThrow(/Cannot read the kubeconfig/);
  });
});
