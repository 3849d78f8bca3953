import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/adapters/clock.js';
import { errorLogsCheck } from '../../src/checks/error-logs.js';
import { configSchema, type ReefConfig } from '../../src/config/schema.js';
import { createCheckContext } from '../../src/runtime/check-context.js';
import type { LogLine } from '../fixtures/kube-api-server.js';
import { type FakeCluster, startFakeCluster } from '../fixtures/kubeconfig.js';

const HOUR = 3_600_000;

/** Pod logs through the real Kubernetes adapter and the local API server: the wiring of both ports. */
describe('errorLogs on pod logs (real @kubernetes/client-node, local API server)', () => {
  let cluster: FakeCluster;

  beforeAll(async () => {
    cluster = await startFakeCluster();
    for (const name of ['web-a', 'web-b'])
      cluster.server.addPod({ name, namespace: 'apps', labels: { app: 'web' } });
    cluster.server.addPod({ name: 'db-0', namespace: 'apps', labels: { app: 'db' } });
  });
  afterAll(async () => {
    await cluster.close();
  });

  /** `perHour[i]` matching lines in hour i before now (0 = the last hour), spread evenly, plus noise. */
  const lines = (perHour: readonly number[], ownTimestamps: boolean): LogLine[] => {
    const out: LogLine[] = [];
    const now = Date.now();
    perHour.forEach((count, hour) => {
      for (let i = 0; i < count + 5; i++) {
        const at = new Date(now - hour * HOUR - ((i + 0.5) / (count + 5)) * HOUR);
        const error = i < count;
        const body = error
          ? `level=error msg="upstream timeout" request_id=${i}${hour}`
          : 'level=info msg=ok';
        out.push({ at, text: ownTimestamps ? `${at.toISOString()} ${body}` : body });
      }
    });
    return out;
  };

  const config = (selector: string): ReefConfig =>
    configSchema.parse({
      clusters: { lab: { kubeconfig: cluster.kubeconfig, context: cluster.context } },
      checks: {
        errorLogs: [
          {
            name: 'web',
            cluster: 'lab',
            namespace: 'apps',
            selector,
            pattern: 'level=error',
            window: '1h',
            baselineWindows: 6,
          },
        ],
      },
    });

  const probe = async (cfg: ReefConfig) => {
    const { context, close } = createCheckContext(cfg, { clock: systemClock });
    try {
      return await errorLogsCheck.probe(errorLogsCheck.targets(cfg)[0]!, context);
    } finally {
      await close();
    }
  };

  it('counts across every pod of the selector and finds a spike in lines with no timestamps of their own', async () => {
    // Per pod: 5/h for six hours, then 30 in the last hour → 60 vs a baseline of 10: 6×.
    cluster.server.setPodLogs('apps', 'web-a', lines([30, 5, 5, 5, 5, 5, 5], false));
    cluster.server.setPodLogs('apps', 'web-b', lines([30, 5, 5, 5, 5, 5, 5], false));
    cluster.server.setPodLogs('apps', 'db-0', lines([500, 0, 0, 0, 0, 0, 0], false));
    const [finding, ...rest] = await probe(config('app=web'));
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({ check: 'errorLogs', target: 'web', condition: 'error-spike' });
    expect(finding!.facts).toMatchObject({ current: 60, baseline: 10, factor: 6 });
    expect(JSON.stringify(finding!.facts)).toMatch(/upstream timeout/);
  });

  it('a steady error rate is ok, with lines carrying their own timestamps', async () => {
    cluster.server.setPodLogs('apps', 'web-a', lines([6, 5, 6, 5, 6, 5, 6], true));
    cluster.server.setPodLogs('apps', 'web-b', lines([5, 6, 5, 6, 5, 6, 5], true));
    const [finding] = await probe(config('app=web'));
    expect(finding).toMatchObject({ condition: 'ok', severity: 'ok' });
    expect(finding!.facts.current).toBe(11);
  });

  it('a selector that matches no pod is a check error saying so', async () => {
    await expect(probe(config('app=nothing'))).rejects.toThrow(
      /no pods match selector "app=nothing" in lab\/apps/,
    );
  });
});
