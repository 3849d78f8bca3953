import { appendFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { type Clock, systemClock } from '../adapters/clock.js';
import { errorMessage, ReefError } from '../errors.js';
import { type AuditEntry, type AuditInput, type AuditRecord, normalizeEntry } from './audit-entry.js';

/**
 * Approximate trimming only stops the stream from growing without bound on a Reef that runs for years;
 * at a few hundred entries a day a million is decades. Nothing else ever removes or edits an entry.
 */
const MAX_LEN = 1_000_000;
const PAGE = 1000;
const DEFAULT_LIMIT = 1000;

export interface AuditLogOptions {
  /** The mirror goes to `<dataDir>/audit/audit-YYYY-MM-DD.jsonl` (UTC date of the entry). None without it. */
  dataDir?: string | undefined;
  clock?: Clock;
  /** Told about a mirror write that failed or a stream entry that cannot be read; never thrown. */
  onError?: (message: string, error: unknown) => void;
}

export interface AuditReadOptions {
  /** Entries that reached Redis at or after this time (the stream id is Redis's clock, in ms). */
  since?: Date | undefined;
  /** At most this many, the newest ones (default 1000). */
  limit?: number | undefined;
  incidentId?: string | undefined;
}

/**
 * The append-only audit record: who decided, approved, refused, ran or verified what, and why.
 *
 * The Redis stream `<prefix>:audit` is the record of truth: every process (workers, bot, CLI) appends
 * to the same stream, and its ids order the entries across all of them. Each entry is also mirrored
 * as one JSON line to a daily file under the data directory, for `grep`, `jq` and shipping off-box.
 */
export class AuditLog {
  readonly stream: string;
  private readonly clock: Clock;
  private readonly onError: (message: string, error: unknown) => void;
  /** Mirror writes of this process go out one at a time, so the file keeps the stream's order. */
  private mirrorQueue: Promise<void> = Promise.resolve();

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly options: AuditLogOptions = {},
  ) {
    this.stream = `${prefix}:audit`;
    this.clock = options.clock ?? systemClock;
    this.onError = options.onError ?? ((message) => process.stderr.write(`reef: ${message}\n`));
  }

  /**
   * Appends one entry (validated, redacted, bounded) and resolves once it is in Redis and the mirror
   * write has been attempted. Rejects only when Redis refuses it: then nothing was recorded, and the
   * caller must know before acting on an unrecorded decision.
   */
  async record(input: AuditInput): Promise<AuditRecord> {
    const entry = normalizeEntry(input, this.clock.now());
    const id = await this.redis.xadd(
      this.stream,
      'MAXLEN',
      '~',
      String(MAX_LEN),
      '*',
      'entry',
      JSON.stringify(entry),
    );
    if (!id) throw new ReefError('reef_redis_unavailable', `Redis did not append to ${this.stream}`);
    const record: AuditRecord = { id, ...entry };
    await this.mirror(record);
    return record;
  }

  /**
   * Entries oldest first: the newest `limit` of those since `since` (for one incident when asked).
   * Walks the stream backwards in pages, so a filtered read stops as soon as it has enough.
   */
  async read(options: AuditReadOptions = {}): Promise<AuditRecord[]> {
    const limit = options.limit ?? DEFAULT_LIMIT;
    if (!Number.isInteger(limit) || limit < 1) return [];
    const start = options.since ? String(Math.max(0, options.since.getTime())) : '-';
    const count = options.incidentId === undefined ? Math.min(limit, PAGE) : PAGE;
    const found: AuditRecord[] = [];
    let end = '+';
    while (found.length < limit) {
      const page = await this.redis.xrevrange(this.stream, end, start, 'COUNT', count);
      for (const [id, fields] of page) {
        const record = this.parse(id, fields);
        if (!record || (options.incidentId !== undefined && record.incidentId !== options.incidentId))
          continue;
        found.push(record);
        if (found.length >= limit) break;
      }
      const last = page.at(-1);
      if (!last || page.length < count) break;
      end = `(${last[0]}`;
    }
    return found.reverse();
  }

  /**
   * Why a failed mirror write is reported, not thrown: the entry already stands in Redis, the record
   * of truth, so nothing is lost. Throwing would fail the approval or remediation that is being
   * recorded (a full or read-only disk would become an outage of Reef itself) and invite a retry that
   * appends the entry to the stream twice.
   */
  private mirror(record: AuditRecord): Promise<void> {
    const dataDir = this.options.dataDir;
    if (!dataDir) return Promise.resolve();
    const write = this.mirrorQueue
      .then(() => appendLine(dataDir, record))
      .catch((error: unknown) =>
        this.onError(
          `audit entry ${record.id} is in Redis (${this.stream}) but its file mirror failed: ${errorMessage(error)}`,
          error,
        ),
      );
    this.mirrorQueue = write;
    return write;
  }

  private parse(id: string, fields: string[]): AuditRecord | undefined {
    const at = fields.indexOf('entry');
    const raw = at >= 0 ? fields[at + 1] : undefined;
    try {
      if (raw === undefined) throw new Error('no "entry" field');
      return { id, ...(JSON.parse(raw) as AuditEntry) };
    } catch (error) {
      this.onError(`audit entry ${id} in ${this.stream} is unreadable: ${errorMessage(error)}`, error);
      return undefined;
    }
  }
}

/**
 * One `appendFile` (O_APPEND) per entry, each line under 4 KiB (see `normalizeEntry`): the kernel
 * places each write at the end of the file whole, so lines from several processes never interleave.
 * The directory is private (0700) and the file 0600: the reasons in it describe the infrastructure.
 */
async function appendLine(dataDir: string, record: AuditRecord): Promise<void> {
  const dir = path.join(dataDir, 'audit');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, `audit-${record.at.slice(0, 10)}.jsonl`);
  await appendFile(file, `${JSON.stringify(record)}\n`, { flag: 'a', mode: 0o600 });
}
