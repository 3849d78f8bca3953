import type { Redis } from 'ioredis';
import { type Bucket, DAY_MS, dayStamp, HOUR_MS, type Sample, type SeriesMeta, seriesId } from './series.js';

/**
 * Per-target metric history in Redis, bounded by a retention. Each series keeps one hash per UTC day,
 * `history:m:<series>:<yyyymmdd>`, with one field per hour: `n sum max last`. A sweep folds its samples
 * into the current hour in one script call, and each day's hash expires on its own once it is older than
 * the retention, so memory is O(series × days × 24) whatever the sweep rate (about 0.6 KiB per series
 * and day). `history:series` (last seen, by series) and `history:meta` (what each series is) list the
 * series; series not seen within the retention are dropped by `trim`.
 */

/** Samples per script call: keeps one call short even for thousands of targets. */
const CHUNK = 500;
/** Commands per pipeline when reading buckets. */
const READ_CHUNK = 5000;

/**
 * Folds samples into their hour. The keys are built in the script (one Redis, not a cluster: Reef
 * needs a single Redis for BullMQ's Lua anyway).
 */
const RECORD = `
local at, ttl, hour, base, day = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
for i = 6, #ARGV, 3 do
  local id, v, meta = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2]
  local key = base .. id .. ':' .. day
  local cur = redis.call('HGET', key, hour)
  local n, sum, mx = 1, v, v
  if cur then
    local a, b, c = string.match(cur, '^(%S+) (%S+) (%S+)')
    n = tonumber(a) + 1
    sum = tonumber(b) + v
    mx = math.max(tonumber(c), v)
  end
  redis.call('HSET', key, hour, n .. ' ' .. sum .. ' ' .. mx .. ' ' .. v)
  redis.call('PEXPIRE', key, ttl)
  redis.call('ZADD', KEYS[1], at, id)
  redis.call('HSET', KEYS[2], id, meta)
end
return 1
`;

export interface SeriesInfo {
  id: string;
  meta: SeriesMeta;
  /** Epoch ms of the last sample. */
  lastSeen: number;
}

export class MetricHistory {
  private readonly base: string;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    readonly retentionMs: number,
  ) {
    this.base = `${prefix}:history:m:`;
  }

  private key(...parts: string[]): string {
    return [this.prefix, 'history', ...parts].join(':');
  }

  /** Adds one sweep's samples (all observed at `at`) to their hour. */
  async record(samples: readonly Sample[], at: Date): Promise<void> {
    if (samples.length === 0) return;
    const ms = at.getTime();
    const dayStart = ms - (ms % DAY_MS);
    // Relative to the writer's clock, so a day's hash lives exactly the retention past its end.
    const ttl = Math.max(1000, dayStart + DAY_MS + this.retentionMs - ms);
    const hour = String(Math.floor((ms - dayStart) / HOUR_MS));
    const head = [String(ms), String(ttl), hour, this.base, dayStamp(ms)];
    for (let i = 0; i < samples.length; i += CHUNK) {
      const args: string[] = [...head];
      for (const s of samples.slice(i, i + CHUNK))
        args.push(seriesId(s.meta.kind, s.meta.target), String(s.value), JSON.stringify(s.meta));
      await this.redis.eval(RECORD, 2, this.key('series'), this.key('meta'), ...args);
    }
  }

  /** The restart counts recorded for these containers today or yesterday (UTC). */
  async rememberedRestarts(keys: readonly string[], at: Date): Promise<Map<string, number>> {
    const found = new Map<string, number>();
    if (keys.length === 0) return found;
    const ms = at.getTime();
    const [today, yesterday] = await Promise.all([
      this.redis.hmget(this.key('restarts', dayStamp(ms)), ...keys),
      this.redis.hmget(this.key('restarts', dayStamp(ms - DAY_MS)), ...keys),
    ]);
    keys.forEach((key, i) => {
      const raw = today[i] ?? yesterday[i];
      if (raw !== null && raw !== undefined) found.set(key, Number(raw));
    });
    return found;
  }

  async rememberRestarts(counts: ReadonlyMap<string, number>, at: Date): Promise<void> {
    if (counts.size === 0) return;
    const key = this.key('restarts', dayStamp(at.getTime()));
    await this.redis
      .multi()
      .hset(key, Object.fromEntries([...counts].map(([k, v]) => [k, String(v)])))
      .pexpire(key, 2 * DAY_MS + HOUR_MS)
      .exec();
  }

  /** Every series seen within the retention, with what it is about. */
  async series(): Promise<SeriesInfo[]> {
    const [seen, metas] = await Promise.all([
      this.redis.zrange(this.key('series'), '0', '-1', 'WITHSCORES'),
      this.redis.hgetall(this.key('meta')),
    ]);
    const out: SeriesInfo[] = [];
    for (let i = 0; i < seen.length; i += 2) {
      const id = seen[i]!;
      const raw = metas[id];
      if (raw === undefined) continue;
      out.push({ id, meta: JSON.parse(raw) as SeriesMeta, lastSeen: Number(seen[i + 1]) });
    }
    return out;
  }

  /** Hourly buckets of each series that start within [from, to), oldest first. */
  async buckets(ids: readonly string[], from: number, to: number): Promise<Map<string, Bucket[]>> {
    const days: number[] = [];
    for (let d = from - (from % DAY_MS); d < to; d += DAY_MS) days.push(d);
    const requests = ids.flatMap((id) => days.map((day) => ({ id, day })));
    const out = new Map<string, Bucket[]>(ids.map((id) => [id, []]));
    for (let i = 0; i < requests.length; i += READ_CHUNK) {
      const chunk = requests.slice(i, i + READ_CHUNK);
      const pipeline = this.redis.pipeline();
      for (const { id, day } of chunk) pipeline.hgetall(`${this.base}${id}:${dayStamp(day)}`);
      const replies = (await pipeline.exec()) ?? [];
      chunk.forEach(({ id, day }, j) => {
        const [error, hash] = replies[j] ?? [];
        if (error) throw error;
        const list = out.get(id)!;
        const hours = Object.entries((hash as Record<string, string>) ?? {})
          .map(([hour, value]) => parseBucket(day + Number(hour) * HOUR_MS, value))
          .filter((b): b is Bucket => b !== undefined && b.start >= from && b.start < to)
          .sort((a, b) => a.start - b.start);
        for (const b of hours) list.push(b);
      });
    }
    return out;
  }

  /** Forgets series not seen within the retention (their day hashes have expired already). */
  async trim(now: Date): Promise<number> {
    const cutoff = now.getTime() - this.retentionMs;
    const stale = await this.redis.zrangebyscore(this.key('series'), '-inf', `(${cutoff}`);
    if (stale.length === 0) return 0;
    await this.redis
      .multi()
      .zrem(this.key('series'), ...stale)
      .hdel(this.key('meta'), ...stale)
      .exec();
    return stale.length;
  }
}

function parseBucket(start: number, value: string): Bucket | undefined {
  const [n, sum, max, last] = value.split(' ').map(Number);
  if (n === undefined || sum === undefined || max === undefined || last === undefined || !(n > 0))
    return undefined;
  return { start, n, sum, max, last };
}
