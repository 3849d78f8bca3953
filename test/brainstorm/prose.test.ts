import { describe, expect, it } from 'vitest';
import { checkProse, type ProseWriter, proseInput, writeProse } from '../../src/brainstorm/prose.js';
import type { BrainstormReport } from '../../src/brainstorm/report.js';
import { SECRET_CORPUS } from '../secrets/corpus.js';

const report: BrainstormReport = {
  date: '2026-11-28',
  timezone: 'UTC',
  from: '2026-11-27T04:00:00.000Z',
  to: '2026-11-28T04:00:00.000Z',
  generatedAt: '2026-11-28T04:00:01.000Z',
  summary: {
    opened: 7,
    fixedAutomatically: 1,
    approved: 1,
    escalated: 1,
    dismissed: 1,
    resolved: 4,
    recoveredOnTheirOwn: 2,
    mttrMs: 1_950_000,
    openedByCheck: { http: 7 },
  },
  errorDrift: [],
  latencyDrift: [],
  examined: { errorRate: 0, latency: 0, disks: 1, workloads: 0 },
  restarts: [],
  disks: [
    {
      target: 'nas:/srv',
      usedPercent: 80,
      growthPerDay: 4.5,
      daysToFull: 4.4,
      fullAt: '2026-12-02T14:00:00.000Z',
      points: 168,
    },
  ],
  certificates: [],
  flapping: [],
  promotions: [],
  failedRunbooks: [],
  deployments: [],
  suggestions: [],
  notes: [`last error: ${SECRET_CORPUS.find((s) => s.kind === 'slack bot token')!.line}`],
  thresholds: { changePercent: 10, certificateDays: 30, diskHorizonDays: 30, promoteAfter: 5 },
};
const reference = 'Last 24 h: 7 incidents opened; nas:/srv at 80 % grows 4.5 points a day, full in 4 days.';

describe('the LLM summary seam: the numbers come from code', () => {
  it('accepts prose that cites only computed numbers, in any notation', () => {
    expect(
      checkProse(
        'A busy night: 7 incidents; the NAS at 80.0 % fills in about 4 days (4,5 points a day).',
        reference,
      ),
    ).toEqual({
      ok: true,
    });
  });

  it('rejects a number the code never computed', () => {
    expect(checkProse('About 20 incidents, and the disk is full in 3 days.', reference)).toEqual({
      ok: false,
      invented: ['20', '3'],
    });
  });

  it('gives the writer the report redacted, and keeps or drops its answer by the check', async () => {
    const seen: string[] = [];
    const writer = (answer: string): ProseWriter => ({
      summarize: async (facts) => {
        seen.push(facts);
        return answer;
      },
    });
    expect(
      await writeProse(writer('A quiet night: 7 incidents, the NAS fills in 4 days.'), report, reference),
    ).toEqual({
      prose: 'A quiet night: 7 incidents, the NAS fills in 4 days.',
    });
    expect(await writeProse(writer('12 incidents overnight.'), report, reference)).toEqual({
      note: 'The LLM summary was dropped: it cited 12, which the computed numbers do not contain.',
    });
    const token = SECRET_CORPUS.find((s) => s.kind === 'slack bot token')!.secret;
    expect(seen[0]).not.toContain(token);
    expect(JSON.parse(seen[0]!).summary.opened).toBe(7);
    expect(proseInput({ ...report, prose: 'old' })).not.toContain('"prose"');
  });
});
