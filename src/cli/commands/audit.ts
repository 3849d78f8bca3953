import type { AuditRecord } from '../../audit/audit-entry.js';
import { AuditLog } from '../../audit/audit-log.js';
import { ReefError } from '../../errors.js';
import { openRuntime } from '../../runtime/runtime.js';
import { colors, table } from '../../surfaces/format.js';
import { parseDuration } from '../../util/duration.js';
import { formatLocal } from '../../util/time.js';
import { type CliIo, print } from '../io.js';

export interface AuditCommandOptions {
  since?: string;
  json?: boolean;
  incident?: string;
  limit?: string;
  config?: string;
}

/** `reef audit [--since 24h] [--json] [--incident N] [--limit N]`: the audit record, oldest first. */
export async function auditCommand(options: AuditCommandOptions, io: CliIo): Promise<number> {
  // Flags are checked before connecting, so a typo is a usage error even when Redis is down.
  const since = parseSince(options.since ?? '24h');
  const limit = parseLimit(options.limit ?? '200');
  const incidentId = options.incident === undefined ? undefined : parseIncident(options.incident);
  const rt = await openRuntime({ configFlag: options.config, env: io.env, cwd: io.cwd });
  try {
    const from = since(rt.clock.now());
    const audit = new AuditLog(rt.connection, rt.prefix, {
      clock: rt.clock,
      onError: (message) => print(io.err, `warning: ${message}`),
    });
    // One more than asked, to tell "exactly N" from "N of more".
    const read = await audit.read({ since: from, limit: limit + 1, incidentId });
    const more = read.length > limit;
    const entries = more ? read.slice(1) : read;
    if (options.json) {
      print(io.out, JSON.stringify({ entries }));
      return 0;
    }
    const tz = rt.config.timezone;
    if (entries.length === 0) {
      const scope = incidentId === undefined ? '' : ` for incident #${incidentId}`;
      print(io.out, `No audit entries${scope} since ${formatLocal(from, tz)}.`);
      return 0;
    }
    print(io.out, auditTable(entries, tz, io.color));
    if (more) print(io.out, `(the newest ${limit} shown; raise --limit or narrow --since to see the rest)`);
    return 0;
  } finally {
    await rt.close();
  }
}

export function auditTable(entries: readonly AuditRecord[], tz: string, color: boolean): string {
  const c = colors(color);
  const cell = (value: string | undefined) => value ?? c.dim('-');
  return table(
    ['TIME', 'ACTOR', 'ACTION', 'INCIDENT', 'RUNBOOK', 'TARGET', 'WHY'],
    entries.map((e) => [
      formatLocal(e.at, tz, true),
      e.actor,
      /refused|escalation|interrupted/.test(e.action) ? c.yellow(e.action) : e.action,
      cell(e.incidentId === undefined ? undefined : `#${e.incidentId}`),
      cell(e.runbookId),
      cell(e.target),
      // One entry, one row: a reason with line breaks would break the table.
      e.why.replace(/\s*\n\s*/g, ' '),
    ]),
  );
}

const SINCE_HINT =
  'Use a duration back from now (90m, 24h, 7d) or an ISO date/time (2026-05-01, 2026-05-01T08:00:00Z).';

/** `--since` as a duration back from now, or an absolute ISO date (midnight UTC) or date-time. */
function parseSince(text: string): (now: Date) => Date {
  const ms = parseDuration(text);
  if (ms !== undefined) return (now) => new Date(now.getTime() - ms);
  if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text.trim())) {
    const at = new Date(text.trim());
    if (!Number.isNaN(at.getTime())) return () => at;
  }
  throw new ReefError('reef_usage', `--since "${text}" is neither a duration nor a date`, {
    hint: SINCE_HINT,
  });
}

function parseLimit(text: string): number {
  const n = Number(text);
  if (/^\d+$/.test(text.trim()) && n >= 1 && n <= 100_000) return n;
  throw new ReefError('reef_usage', `--limit "${text}" is not a whole number from 1 to 100000`, {
    hint: 'For example `reef audit --limit 500`.',
  });
}

function parseIncident(text: string): string {
  const id = text.trim().replace(/^#/, '');
  if (/^\d+$/.test(id)) return id;
  throw new ReefError('reef_usage', `--incident "${text}" is not an incident number`, {
    hint: 'Use the number shown by `reef incidents`, for example `reef audit --incident 42`.',
  });
}
