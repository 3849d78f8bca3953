import { formatLocal } from '../util/time.js';
import type { BrainstormReport, Suggestion } from './report.js';

/**
 * What a human might do about the report, most urgent first, each with the numbers that support it.
 * Every figure here is one of the report's own, formatted the same way everywhere (see `fmt`).
 */
export function suggestionsFor(report: Omit<BrainstormReport, 'suggestions'>): Suggestion[] {
  const tz = report.timezone;
  const out: Suggestion[] = [];
  for (const d of report.disks) {
    out.push({
      section: 'disk',
      title: `Disk ${d.target} will be full in ${days(d.daysToFull)}: free space or grow it`,
      evidence: [
        `used ${fmt(d.usedPercent)} % now, growing ${fmt(d.growthPerDay)} points per day (line through ${d.points} hourly means of the last 7 days)`,
        `full around ${formatLocal(d.fullAt, tz)}`,
      ],
    });
  }
  for (const c of report.certificates) {
    out.push({
      section: 'certificates',
      title: `Renew the certificate of ${c.target}: it expires in ${days(c.daysLeft)}`,
      evidence: [`notAfter ${formatLocal(c.notAfter, tz)}${c.subject ? ` (${c.subject})` : ''}`],
    });
  }
  for (const r of report.deployments) {
    const what = r.metric === 'error-rate' ? `Error rate of ${r.series}` : `Restarts of ${r.deployment}`;
    out.push({
      section: 'deployments',
      title: `${what} ${r.changePercent === null ? 'started' : `up ${fmt(r.changePercent)} %`} since rollout of ${r.deployment} revision ${r.revision} at ${formatLocal(r.rolloutAt, tz)}: consider a rollback or investigation`,
      evidence: [
        `${fmt(r.before)}${r.unit} in the day before, ${fmt(r.after)}${r.unit} since (${r.cluster}/${r.namespace})`,
      ],
    });
  }
  for (const r of report.restarts.filter((x) => x.leakSuspected)) {
    out.push({
      section: 'restarts',
      title: `${r.namespace}/${r.workload} is OOMKilled more and more often: a memory leak is likely; raise its limit and look for the leak`,
      evidence: [`OOM kills per day over 7 days: ${r.oomPerDay.join(', ')} (${r.oom7d} in all)`],
    });
  }
  // A drift a rollout explains is already suggested above, with its cause.
  const explained = new Set(report.deployments.filter((r) => r.metric === 'error-rate').map((r) => r.series));
  for (const d of report.errorDrift.filter((x) => !explained.has(x.target))) {
    out.push({
      section: 'drift',
      title: `Error rate of ${d.target} ${d.changePercent >= 0 ? '+' : ''}${fmt(d.changePercent)} % over 7 days: look into it before it becomes an incident`,
      evidence: [
        `${fmt(d.start)}/h → ${fmt(d.end)}/h (line through ${d.points} hourly means)${d.weekOverWeekPercent === null ? '' : `; week over week ${sign(d.weekOverWeekPercent)} %`}`,
      ],
    });
  }
  for (const d of report.latencyDrift) {
    out.push({
      section: 'drift',
      title: `Latency of ${d.target} ${d.changePercent >= 0 ? '+' : ''}${fmt(d.changePercent)} % over 7 days`,
      evidence: [
        `${fmt(d.start)} ms → ${fmt(d.end)} ms (line through ${d.points} hourly means)${d.weekOverWeekPercent === null ? '' : `; week over week ${sign(d.weekOverWeekPercent)} %`}`,
      ],
    });
  }
  for (const f of report.flapping) {
    out.push({
      section: 'flapping',
      title: `${f.check}/${f.target} flaps (${f.condition}): fix the cause or tune the check (retries, thresholds)`,
      evidence: [
        `opened ${f.openings} times within the flap window (quiet re-openings included); last: ${f.lastSummary}`,
      ],
    });
  }
  for (const p of report.promotions) {
    out.push({
      section: 'runbooks',
      title: `Promote runbook ${p.runbookId} from approve to auto`,
      evidence: [
        `approved ${p.streak} times in a row as proposed (no alternative chosen), every verification passed`,
      ],
    });
  }
  for (const f of report.failedRunbooks) {
    out.push({
      section: 'runbooks',
      title: `Review runbook ${f.runbookId}: it failed for ${f.failures} incident${f.failures === 1 ? '' : 's'} in 7 days`,
      evidence: [`last at ${formatLocal(f.lastAt, tz)}: ${f.lastReason}`],
    });
  }
  return out;
}

/** A number as the report prints it: at most two decimals, no trailing zeros. */
export function fmt(value: number): string {
  return String(Math.round(value * 100) / 100);
}

function sign(value: number): string {
  return `${value >= 0 ? '+' : ''}${fmt(value)}`;
}

/** Whole days, rounded down ("full in 4 days" when it is 4.6): the cautious reading of a forecast. */
export function days(value: number): string {
  if (value < 1) return 'less than a day';
  const n = Math.floor(value);
  return `${n} day${n === 1 ? '' : 's'}`;
}
