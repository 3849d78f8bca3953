import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { createKubePort } from '../../src/adapters/kubernetes.js';
import { deleteKeysUnder } from '../../src/adapters/redis.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { computeReport } from '../../src/brainstorm/compute.js';
import { renderMarkdown } from '../../src/brainstorm/render-markdown.js';
import { windowEndingAt } from '../../src/brainstorm/window.js';
import { incidentHistory, metricHistory, retentionOf } from '../../src/history/record-sweep.js';
import { IncidentStore } from '../../src/incidents/store.js';
import { loadCatalog } from '../../src/runbooks/catalog.js';
import { BUNDLED_RUNBOOKS_DIR } from '../../src/runbooks/location.js';
import { startFakeCluster } from '../../test/fixtures/kubeconfig.js';
import { benchRedis } from './bench-redis.js';
import { makeFleet, putRollouts, writeFleetHistory, writeFleetIncidents } from './brainstorm-fleet.js';

/**
 * Writes `docs/brainstorm-sample.md`: the report Reef computes over the demo fleet (60 targets, 35
 * days of hourly history, the last day's incidents, a month of runbook approvals, rollouts on the local
 * Kubernetes stand-in), for the night of 2026-11-28 in Europe/Berlin. Deterministic: run it again and the
 * file is the same. `npx tsx bench/support/brainstorm-sample.ts [output]` (needs Redis, as the tests do).
 */
const END = Date.parse('2026-11-28T03:00:00Z');
const TZ = 'Europe/Berlin';

async function main(out: string): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'reef-sample-'));
  const prefix = `reef-sample-${process.pid}`;
  const handle = await benchRedis(dir);
  const redis = handle.connect();
  const cluster = await startFakeCluster();
  try {
    const fleet = makeFleet({ targets: 60, end: END, kubeconfig: cluster.kubeconfig, timezone: TZ, prefix });
    putRollouts(cluster.server.store, fleet);
    await writeFleetHistory(redis, prefix, fleet, 35);
    const clock = {
      ms: END - 2 * 86_400_000,
      now() {
        return new Date(this.ms);
      },
      advance(ms: number) {
        this.ms += ms;
      },
    };
    await writeFleetIncidents(redis, prefix, fleet, clock, retentionOf(fleet.config));
    const kube = createKubePort(fleet.config);
    const catalog = loadCatalog(BUNDLED_RUNBOOKS_DIR);
    const at = { now: () => new Date(END) };
    const report = await computeReport(
      {
        config: fleet.config,
        clock: at,
        metrics: metricHistory(redis, prefix, fleet.config),
        incidents: incidentHistory(redis, prefix, fleet.config),
        store: new IncidentStore(redis, prefix),
        audit: new AuditLog(redis, prefix, { clock: at }),
        kube,
        modeOf: (id) => catalog.get(id)?.mode ?? null,
      },
      windowEndingAt(new Date(END), TZ),
    );
    await kube.close();
    await writeFile(out, renderMarkdown(report));
    process.stdout.write(`wrote ${out} (${report.suggestions.length} suggestions)\n`);
  } finally {
    await deleteKeysUnder(redis, prefix);
    redis.disconnect();
    await handle.stop();
    await cluster.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const DEFAULT_OUT = fileURLToPath(new URL('../../docs/brainstorm-sample.md', import.meta.url));
await main(process.argv[2] ?? DEFAULT_OUT);
process.exit(0);
