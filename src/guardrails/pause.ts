import type { Redis } from 'ioredis';

/**
 * The global pause as last set: paused or not, by whom and when (the pause, or the resume that ended
 * it), and the reason given for a pause.
 */
export type PauseState =
  | { paused: true; by: string; at: Date; reason: string | undefined }
  | {
      paused: false;
      /** Who resumed, and when; both undefined when Reef was never paused. */
      by: string | undefined;
      at: Date | undefined;
      reason: undefined;
    };

/** One pause or resume, as kept in the history (newest first). */
export interface PauseRecord {
  action: 'pause' | 'resume';
  by: string;
  at: string;
  reason?: string;
}

/** How many pause and resume records are kept; the audit log (when it exists) keeps them all. */
const HISTORY = 100;

/**
 * A global pause in Redis, shared by every Reef process: while paused, no runbook step starts (checks,
 * incidents and chat carry on, so humans still see what is wrong). The execution worker asks
 * `isPaused()` before each run; `reef pause` and `reef resume` set it.
 *
 * Keys (under the prefix): `guard:pause` the current state (a hash) · `guard:pause:history` the last
 * pauses and resumes, newest first.
 */
export class PauseFlag {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private get key(): string {
    return `${this.prefix}:guard:pause`;
  }

  async isPaused(): Promise<PauseState> {
    return toState(await this.redis.hgetall(this.key));
  }

  /** Pauses (again, when already paused: the newer who, when and reason win). Returns the state before. */
  async pause(by: string, at: Date, reason?: string): Promise<PauseState> {
    const fields: Record<string, string> = { paused: '1', by, at: at.toISOString() };
    if (reason) fields.reason = reason;
    return this.write(fields, { action: 'pause', by, at: at.toISOString(), ...(reason ? { reason } : {}) });
  }

  /** Resumes; returns the state before (a resume while not paused changes nothing and records nothing). */
  async resume(by: string, at: Date): Promise<PauseState> {
    const before = await this.isPaused();
    if (!before.paused) return before;
    return this.write(
      { paused: '0', by, at: at.toISOString() },
      { action: 'resume', by, at: at.toISOString() },
    );
  }

  /** The last pauses and resumes, newest first. */
  async history(limit = 20): Promise<PauseRecord[]> {
    const raws = await this.redis.lrange(`${this.key}:history`, 0, limit - 1);
    return raws.map((r) => JSON.parse(r) as PauseRecord);
  }

  /** One transaction: the state read back is the one this write replaced, even with concurrent writers. */
  private async write(fields: Record<string, string>, record: PauseRecord): Promise<PauseState> {
    const replies = await this.redis
      .multi()
      .hgetall(this.key)
      .del(this.key)
      .hset(this.key, fields)
      .lpush(`${this.key}:history`, JSON.stringify(record))
      .ltrim(`${this.key}:history`, 0, HISTORY - 1)
      .exec();
    const [error, before] = replies?.[0] ?? [new Error('the pause transaction was aborted'), {}];
    if (error) throw error;
    return toState(before as Record<string, string>);
  }
}

function toState(hash: Record<string, string>): PauseState {
  if (hash.paused === '1') {
    return { paused: true, by: hash.by ?? 'unknown', at: new Date(hash.at ?? 0), reason: hash.reason };
  }
  return {
    paused: false,
    by: hash.by,
    at: hash.at ? new Date(hash.at) : undefined,
    reason: undefined,
  };
}
