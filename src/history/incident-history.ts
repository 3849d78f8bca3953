import type { Redis } from 'ioredis';
import type { IncidentEvent, IncidentEventType } from '../events/incident-event.js';
import type { Incident } from '../incidents/incident.js';

/**
 * The lifecycle of incidents, executions and approvals as the Nightly Brainstorm counts them: one
 * compact entry per incident event (opened, approved, executing, verified, resolved, escalated,
 * dismissed…), in a sorted set scored by the event's time. A member is the entry itself, so an event
 * delivered twice is kept once; entries older than the retention are trimmed on every write, and the
 * set is capped so a storm of events cannot grow it without bound.
 */

/** Step-by-step progress is in the audit log; history keeps the lifecycle. */
const SKIPPED: ReadonlySet<IncidentEventType> = new Set(['step']);
const MAX_ENTRIES = 200_000;

export interface IncidentHistoryEntry {
  type: IncidentEventType;
  /** Epoch ms. */
  at: number;
  id: string;
  fingerprint: string;
  check: string;
  target: string;
  condition: string;
  severity: string;
  /** Who caused it (an approver for `executing`, `reef` for mode auto). */
  by?: string;
  /** For `resolved`: open → resolved. */
  durationMs?: number;
  /** For `resolved` and `verified`: who asked for the last runbook run, when one ran. */
  runBy?: string;
}

export class IncidentHistory {
  private readonly key: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly retentionMs: number,
  ) {
    this.key = `${prefix}:history:incidents`;
  }

  async record(event: IncidentEvent): Promise<boolean> {
    if (SKIPPED.has(event.type)) return false;
    const entry = entryOf(event);
    if (Number.isNaN(entry.at)) return false;
    await this.redis
      .multi()
      .zadd(this.key, entry.at, JSON.stringify(entry))
      .zremrangebyscore(this.key, '-inf', `(${entry.at - this.retentionMs}`)
      .zremrangebyrank(this.key, 0, -(MAX_ENTRIES + 1))
      .exec();
    return true;
  }

  /** Entries with `from <= at < to`, oldest first. */
  async read(from: number, to: number): Promise<IncidentHistoryEntry[]> {
    const raw = await this.redis.zrangebyscore(this.key, String(from), `(${to}`);
    return raw.map((r) => JSON.parse(r) as IncidentHistoryEntry);
  }
}

function entryOf(event: IncidentEvent): IncidentHistoryEntry {
  const i = event.incident;
  const entry: IncidentHistoryEntry = {
    type: event.type,
    at: Date.parse(event.at),
    id: i.id,
    fingerprint: i.fingerprint,
    check: i.check,
    target: i.target,
    condition: i.condition,
    severity: i.severity,
  };
  if (event.by) entry.by = event.by;
  if (event.type === 'resolved' && i.durationMs !== undefined) entry.durationMs = i.durationMs;
  if (event.type === 'resolved' || event.type === 'verified') {
    const runBy = lastRunBy(i);
    if (runBy) entry.runBy = runBy;
  }
  return entry;
}

/** Who asked for the incident's last runbook run (its last move to `executing`). */
function lastRunBy(incident: Incident): string | undefined {
  for (let k = incident.history.length - 1; k >= 0; k--) {
    const h = incident.history[k]!;
    if (h.state === 'executing') return h.by ?? 'unknown';
  }
  return undefined;
}
