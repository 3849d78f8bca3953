import type { Redis } from 'ioredis';
import { INCIDENT_STATES, type IncidentState, isActive } from '../incidents/incident.js';
import { mapLimit } from '../util/concurrency.js';

/** Active incidents are read in batches of this many (one MGET each). */
const BATCH = 500;

export interface IncidentCounts {
  /** Current incidents by state: every active state, plus `dismissed` ones whose problem persists. */
  byState: Record<IncidentState, number>;
  /** Closed incidents still kept (resolved, or dismissed and recovered), up to the store's 90 days. */
  closed: number;
}

/**
 * Incidents by state for `/metrics`, from the store's indexes (see incidents/store.ts): the sizes of
 * `incidents:all`, `:current` and `:active` come from ZCARD, and only active incidents are read, to
 * learn their state. A scrape costs O(active incidents), however many closed ones the store keeps:
 * with 10,000 incidents of which 100 are open it reads 100 (see bench/metrics.ts).
 */
export async function countIncidents(redis: Redis, prefix: string): Promise<IncidentCounts> {
  const key = (...parts: string[]) => [prefix, ...parts].join(':');
  const [[, all], [, current], [, ids]] = (await redis
    .multi()
    .zcard(key('incidents', 'all'))
    .zcard(key('incidents', 'current'))
    .zrange(key('incidents', 'active'), '0', '-1')
    .exec()) as [[unknown, number], [unknown, number], [unknown, string[]]];
  const byState = Object.fromEntries(INCIDENT_STATES.map((s) => [s, 0])) as Record<IncidentState, number>;
  let active = 0;
  const batches: string[][] = [];
  for (let i = 0; i < ids.length; i += BATCH) batches.push(ids.slice(i, i + BATCH));
  // A few batches in flight at once: the round trips overlap, memory stays bounded.
  await mapLimit(batches, 4, async (batch) => {
    const raws = await redis.mget(batch.map((id) => key('incident', id)));
    for (const raw of raws) {
      if (raw === null) continue;
      const state = stateOf(raw);
      if (state === undefined || !isActive({ state })) continue;
      byState[state]++;
      active++;
    }
  });
  // An incident that still owns its fingerprint and is not active is a dismissed one whose target has
  // not recovered (a resolved one always releases it).
  byState.dismissed = Math.max(0, current - active);
  return { byState, closed: Math.max(0, all - current) };
}

function stateOf(raw: string): IncidentState | undefined {
  try {
    const state = (JSON.parse(raw) as { state?: unknown }).state;
    return INCIDENT_STATES.includes(state as IncidentState) ? (state as IncidentState) : undefined;
  } catch {
    return undefined;
  }
}
