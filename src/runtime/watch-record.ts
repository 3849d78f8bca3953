import type { Redis } from 'ioredis';
import type { Clock } from '../adapters/clock.js';
import type { WatchState } from '../adapters/kube-watch.js';
import { errorMessage } from '../errors.js';

/** What `reef status` shows of one cluster's pod watch (`<prefix>:watch:<cluster>` in Redis). */
export interface WatchRecord {
  cluster: string;
  /** The worst of the cluster's streams (one per namespace). */
  state: WatchState;
  /** When it entered that state. */
  since: string;
  lastEventAt: string | null;
  resourceVersion: string | null;
  error: string | null;
  /** Null: all namespaces. */
  namespaces: string[] | null;
  updatedAt: string;
}

/** A record outlives its process by this much: a crashed scheduler's watch stops showing as connected. */
const TTL_MS = 90_000;
const HEARTBEAT_MS = 30_000;
/** Events refresh `lastEventAt` at most this often, so a busy cluster does not write Redis per event. */
const EVENT_WRITE_MS = 1000;

const RANK: Record<WatchState, number> = { connected: 0, connecting: 1, reconnecting: 2, error: 3 };

export function watchKey(prefix: string, cluster: string): string {
  return `${prefix}:watch:${cluster}`;
}

/** Keeps each watched cluster's record in Redis while the watches run, and removes it when they stop. */
export class WatchRecorder {
  private readonly records = new Map<string, { write(): void; cancel(): void }>();
  private readonly heartbeat: NodeJS.Timeout;
  private writes: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly clock: Clock,
  ) {
    this.heartbeat = setInterval(() => {
      for (const { write } of this.records.values()) write();
    }, HEARTBEAT_MS);
  }

  /** The handle through which one cluster's streams report. */
  cluster(
    cluster: string,
    namespaces: string[] | null,
    streams: number,
  ): {
    state(stream: number, state: WatchState, error?: string): void;
    event(resourceVersion: string): void;
  } {
    const now = this.clock.now().toISOString();
    const record: WatchRecord = {
      cluster,
      state: 'connecting',
      since: now,
      lastEventAt: null,
      resourceVersion: null,
      error: null,
      namespaces,
      updatedAt: now,
    };
    const states = Array.from({ length: streams }, () => ({ state: 'connecting' as WatchState, error: '' }));
    let timer: NodeJS.Timeout | undefined;
    const cancel = () => {
      clearTimeout(timer);
      timer = undefined;
    };
    const write = () => {
      cancel();
      if (this.closed) return;
      record.updatedAt = this.clock.now().toISOString();
      const json = JSON.stringify(record);
      // Chained, so records land in the order they were made; a failed write waits for the next one.
      this.writes = this.writes
        .then(() => this.redis.set(watchKey(this.prefix, cluster), json, 'PX', TTL_MS))
        .catch(() => {});
    };
    this.records.set(cluster, { write, cancel });
    write();
    return {
      state: (stream, state, error) => {
        states[stream] = { state, error: error ?? '' };
        const worst = states.reduce((a, b) => (RANK[b.state] > RANK[a.state] ? b : a));
        if (worst.state !== record.state) {
          record.state = worst.state;
          record.since = this.clock.now().toISOString();
        }
        record.error = states.find((s) => s.state === worst.state && s.error)?.error || null;
        write();
      },
      event: (resourceVersion) => {
        record.lastEventAt = this.clock.now().toISOString();
        if (resourceVersion) record.resourceVersion = resourceVersion;
        if (!this.closed) timer ??= setTimeout(write, EVENT_WRITE_MS);
      },
    };
  }

  /** Stops the heartbeat and deletes the records: nothing is watching any more. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.heartbeat);
    for (const { cancel } of this.records.values()) cancel();
    await this.writes;
    const keys = [...this.records.keys()].map((c) => watchKey(this.prefix, c));
    this.records.clear();
    if (keys.length > 0) await this.redis.del(...keys).catch(() => {});
  }
}

/** The records of these clusters; a cluster with none has no watch running anywhere. */
export async function readWatchRecords(
  redis: Redis,
  prefix: string,
  clusters: readonly string[],
): Promise<{ cluster: string; record: WatchRecord | null }[]> {
  if (clusters.length === 0) return [];
  const raws = await redis.mget(clusters.map((c) => watchKey(prefix, c)));
  return clusters.map((cluster, i) => {
    const raw = raws[i];
    if (!raw) return { cluster, record: null };
    try {
      return { cluster, record: JSON.parse(raw) as WatchRecord };
    } catch (error) {
      return {
        cluster,
        record: {
          cluster,
          state: 'error',
          since: '',
          lastEventAt: null,
          resourceVersion: null,
          error: `unreadable watch record: ${errorMessage(error)}`,
          namespaces: null,
          updatedAt: '',
        },
      };
    }
  });
}
