import type { SeriesInfo } from '../history/metric-history.js';
import { DAY_MS } from '../history/series.js';
import type { CertificateRow } from './report.js';
import { round } from './trend.js';
import { localDate } from './window.js';

/**
 * Certificates coming due: the last certificate each target served (its `notAfter`, kept with the
 * series), when it expires within `days` of the report. Targets not probed for two days are left out:
 * they were removed from the config or their endpoint stopped answering (which is an incident already).
 */
export function certificatesDue(
  series: readonly SeriesInfo[],
  to: number,
  days: number,
  tz: string,
): CertificateRow[] {
  const rows: CertificateRow[] = [];
  for (const { meta, lastSeen } of series) {
    if (meta.kind !== 'cert-days' || lastSeen < to - 2 * DAY_MS) continue;
    const notAfter = Date.parse(meta.labels.notAfter ?? '');
    if (Number.isNaN(notAfter)) continue;
    const daysLeft = (notAfter - to) / DAY_MS;
    if (daysLeft > days) continue;
    rows.push({
      target: meta.target,
      notAfter: new Date(notAfter).toISOString(),
      date: localDate(notAfter, tz),
      daysLeft: round(daysLeft, 1),
      ...(meta.labels.subject ? { subject: meta.labels.subject } : {}),
    });
  }
  return rows.sort((a, b) => Date.parse(a.notAfter) - Date.parse(b.notAfter));
}
