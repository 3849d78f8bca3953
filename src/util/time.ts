import dayjs from 'dayjs';
import timezone from 'dayjs/plugin/timezone.js';
import utc from 'dayjs/plugin/utc.js';

dayjs.extend(utc);
dayjs.extend(timezone);

/** `2026-11-28 04:00 CET` in the given IANA time zone. */
export function formatLocal(at: Date | string | number, tz: string, withSeconds = false): string {
  const d = dayjs(at).tz(tz);
  return `${d.format(withSeconds ? 'YYYY-MM-DD HH:mm:ss' : 'YYYY-MM-DD HH:mm')} ${zoneAbbreviation(d.toDate(), tz)}`;
}

/** `HH:mm:ss` in the given zone, for log-like console lines. */
export function formatClock(at: Date | string | number, tz: string): string {
  return dayjs(at).tz(tz).format('HH:mm:ss');
}

function zoneAbbreviation(at: Date, tz: string): string {
  let fallback = tz;
  for (const locale of ['en-US', 'en-GB']) {
    const part = new Intl.DateTimeFormat(locale, { timeZone: tz, timeZoneName: 'short' })
      .formatToParts(at)
      .find((p) => p.type === 'timeZoneName');
    if (part && !/^GMT[+-]/.test(part.value)) return part.value;
    if (part) fallback = part.value;
  }
  return fallback;
}

/** `in 12m`, `3h ago`. */
export function relative(at: Date | string | number, now: Date): string {
  const ms = new Date(at).getTime() - now.getTime();
  const abs = Math.abs(ms);
  const text =
    abs < 60_000
      ? `${Math.round(abs / 1000)}s`
      : abs < 3_600_000
        ? `${Math.round(abs / 60_000)}m`
        : abs < 172_800_000
          ? `${Math.round(abs / 3_600_000)}h`
          : `${Math.round(abs / 86_400_000)}d`;
  return ms >= 0 ? `in ${text}` : `${text} ago`;
}
