import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ReefError } from '../errors.js';
import { sleep } from '../util/concurrency.js';
import type { Incident } from './incident.js';
import { isActive } from './incident.js';

/** Closed incidents are kept this long (the Nightly Brainstorm looks back five weeks). */
const RETENTION_MS = 90 * 86_400_000;

const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/** How long a closed fingerprint remembers when it closed (longer than any sweep takes). */
const CLOSED_MARK_MS = 3_600_000;

/**
 * Incidents in Redis. Keys (under the configured prefix):
 * `incident:seq` id counter · `incident:<id>` JSON · `incident:current:<fingerprint>` the incident that
 * currently owns a fingerprint · `incidents:active` / `incidents:current` / `incidents:all` ids scored by opening time ·
 * `incidents:target:<check>:<target>` current ids of one target ·
 * `flap:<fingerprint>` opening times · `lock:fp:<fingerprint>` short per-fingerprint mutex.
 */
export class IncidentStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(...parts: string[]): string {
    return [this.prefix, ...parts].join(':');
  }

  async nextId(): Promise<string> {
    return String(await this.redis.incr(this.key('incident', 'seq')));
  }

  async get(id: string): Promise<Incident | undefined> {
    const raw = await this.redis.get(this.key('incident', id));
    return raw ? (JSON.parse(raw) as Incident) : undefined;
  }

  /** Finds an incident by id (`42`, `#42`) or by fingerprint (or a unique prefix of 6+ characters). */
  async find(ref: string): Promise<Incident> {
    const trimmed = ref.trim().replace(/^#/, '');
    if (/^\d+$/.test(trimmed)) {
      const incident = await this.get(trimmed);
      if (incident) return incident;
    } else if (/^[0-9a-f]{6,16}$/.test(trimmed)) {
      const matches = (await this.list({ limit: 1000 })).filter((i) => i.fingerprint.startsWith(trimmed));
      const current = matches.find(isActive) ?? matches[0];
      if (current) return current;
    }
    throw new ReefError('reef_incident_not_found', `No incident "${ref}"`, {
      hint: 'Run `reef incidents` to list them; use the number shown in the first column.',
    });
  }

  async currentFor(fingerprint: string): Promise<Incident | undefined> {
    const id = await this.redis.get(this.key('incident', 'current', fingerprint));
    return id ? this.get(id) : undefined;
  }

  /** Writes the incident and keeps the indexes consistent with its state, atomically. */
  async save(incident: Incident, options: { releaseFingerprint?: boolean } = {}): Promise<void> {
    const tx = this.redis.multi();
    tx.set(this.key('incident', incident.id), JSON.stringify(incident));
    tx.zadd(this.key('incidents', 'all'), Date.parse(incident.openedAt), incident.id);
    if (isActive(incident)) {
      tx.zadd(this.key('incidents', 'active'), Date.parse(incident.openedAt), incident.id);
    } else {
      tx.zrem(this.key('incidents', 'active'), incident.id);
      tx.pexpire(this.key('incident', incident.id), RETENTION_MS);
      tx.zremrangebyscore(this.key('incidents', 'all'), 0, Date.parse(incident.updatedAt) - RETENTION_MS);
    }
    const byTarget = this.targetIndex(incident.check, incident.target);
    if (options.releaseFingerprint) {
      // When the fingerprint was released: a finding observed before it (a slow sweep racing a watch
      // event) is stale and must not re-open what just closed (see IncidentTracker).
      tx.set(this.key('incident', 'closed', incident.fingerprint), incident.updatedAt, 'PX', CLOSED_MARK_MS);
      tx.del(this.key('incident', 'current', incident.fingerprint));
      tx.zrem(this.key('incidents', 'current'), incident.id);
      tx.srem(byTarget, incident.id);
    } else {
      tx.set(this.key('incident', 'current', incident.fingerprint), incident.id);
      tx.zadd(this.key('incidents', 'current'), Date.parse(incident.openedAt), incident.id);
      tx.sadd(byTarget, incident.id);
    }
    await tx.exec();
  }

  /** When the fingerprint's last incident closed (ms), if within the last hour. */
  async closedAt(fingerprint: string): Promise<number | undefined> {
    const at = await this.redis.get(this.key('incident', 'closed', fingerprint));
    return at ? Date.parse(at) : undefined;
  }

  /** Incidents that still own their fingerprint: active ones, and dismissed ones whose target has not recovered. */
  async current(): Promise<Incident[]> {
    return this.load(await this.redis.zrange(this.key('incidents', 'current'), '0', '-1'));
  }

  /** Current incidents of these targets only: a watch event must not load every incident there is. */
  async currentForTargets(check: string, targets: Iterable<string>): Promise<Incident[]> {
    const tx = this.redis.multi();
    let count = 0;
    for (const target of targets) {
      tx.smembers(this.targetIndex(check, target));
      count++;
    }
    if (count === 0) return [];
    const replies = (await tx.exec()) ?? [];
    return this.load(replies.flatMap(([, ids]) => (ids as string[]) ?? []));
  }

  private targetIndex(check: string, target: string): string {
    return this.key('incidents', 'target', check, target);
  }

  async active(): Promise<Incident[]> {
    return this.load(await this.redis.zrange(this.key('incidents', 'active'), '0', '-1'));
  }

  /** Most recent first. */
  async list(options: { limit?: number; activeOnly?: boolean } = {}): Promise<Incident[]> {
    const index = this.key('incidents', options.activeOnly ? 'active' : 'all');
    return this.load(await this.redis.zrevrange(index, '0', String((options.limit ?? 50) - 1)));
  }

  private async load(ids: string[]): Promise<Incident[]> {
    if (ids.length === 0) return [];
    const raws = await this.redis.mget(ids.map((id) => this.key('incident', id)));
    return raws.filter((r): r is string => r !== null).map((r) => JSON.parse(r) as Incident);
  }

  /** Records an opening and returns how many openings fall within the window (this one included). */
  async recordOpening(fingerprint: string, at: Date, windowMs: number): Promise<number> {
    const key = this.key('flap', fingerprint);
    const now = at.getTime();
    const [, , [, count]] = (await this.redis
      .multi()
      .zadd(key, now, `${now}-${randomUUID().slice(0, 8)}`)
      .zremrangebyscore(key, 0, now - windowMs)
      .zcard(key)
      .pexpire(key, windowMs)
      .exec()) as [unknown, unknown, [unknown, number], unknown];
    return count;
  }

  /** True the first time it is called for a fingerprint within the window: flapping is reported once. */
  async claimFlapReport(fingerprint: string, windowMs: number): Promise<boolean> {
    return (
      (await this.redis.set(this.key('flap', 'reported', fingerprint), '1', 'PX', windowMs, 'NX')) === 'OK'
    );
  }

  /**
   * Runs `fn` holding the fingerprint's lock, so a sweep, a watch event and an operator's click never
   * interleave their read-modify-write of one incident (possibly from different processes).
   */
  async withLock<T>(fingerprint: string, fn: () => Promise<T>): Promise<T> {
    const key = this.key('lock', 'fp', fingerprint);
    const token = randomUUID();
    for (let attempt = 0; ; attempt++) {
      if ((await this.redis.set(key, token, 'PX', 10_000, 'NX')) === 'OK') break;
      if (attempt > 400) throw new Error(`incident ${fingerprint} stayed locked for over 10 s`);
      await sleep(25);
    }
    try {
      return await fn();
    } finally {
      await this.redis.eval(RELEASE, 1, key, token);
    }
  }
}
