import type { Redis } from 'ioredis';

export type ExecutionState =
  | 'running'
  | 'succeeded'
  | 'failed'
  /** A guardrail or the render refused it; nothing ran. */
  | 'refused'
  /** REEF_DRY_RUN: the steps were only described. */
  | 'dry-run'
  /** The global pause held it; nothing ran (a later enqueue may run it). */
  | 'paused'
  /** The worker died mid-run; handed to a human, never re-run. */
  | 'interrupted';

export interface StepRecord {
  index: number;
  type: string;
  description: string;
  mutates: boolean;
  startedAt: string;
  durationMs: number;
  ok: boolean;
  summary: string;
  /** Bounded (see MAX_OUTPUT). */
  output?: string;
  /** The executor's machine-readable results (bytes freed, new expiry, plan summary), bounded. */
  data?: Record<string, unknown>;
}

/** One run of one runbook for one incident, as kept in Redis for `reef` and the thread. */
export interface ExecutionRecord {
  incidentId: string;
  runbookId: string;
  state: ExecutionState;
  by: string;
  startedAt: string;
  finishedAt?: string;
  /** Why it was refused, failed or interrupted. */
  reason?: string;
  escalationMessage?: string;
  steps: StepRecord[];
}

/** Output kept per step; the audit keeps the digest of it. */
export const MAX_OUTPUT = 4096;
const RETENTION_S = 30 * 86_400;

/** Keeps step data whole when small, else a note that it was dropped: a record must stay small. */
export function boundData(data: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!data) return undefined;
  const bytes = Buffer.byteLength(JSON.stringify(data));
  return bytes <= MAX_OUTPUT ? data : { truncated: true, bytes };
}

export function boundOutput(text: string): string {
  return text.length <= MAX_OUTPUT ? text : `${text.slice(0, MAX_OUTPUT - 1)}…`;
}

/**
 * Keys (under the prefix): `execution:<incident>:<runbook>` JSON, kept 30 days · `executions:running` the
 * set of runs in progress.
 */
export class ExecutionRecords {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(incidentId: string, runbookId: string): string {
    return `${this.prefix}:execution:${incidentId}:${runbookId}`;
  }

  async get(incidentId: string, runbookId: string): Promise<ExecutionRecord | undefined> {
    const raw = await this.redis.get(this.key(incidentId, runbookId));
    return raw ? (JSON.parse(raw) as ExecutionRecord) : undefined;
  }

  /** Where runs in progress are indexed, so a worker starting up can find those nobody finished. */
  private get runningKey(): string {
    return `${this.prefix}:executions:running`;
  }

  async save(record: ExecutionRecord): Promise<void> {
    const member = `${record.incidentId}:${record.runbookId}`;
    const tx = this.redis
      .multi()
      .set(this.key(record.incidentId, record.runbookId), JSON.stringify(record), 'EX', RETENTION_S);
    if (record.state === 'running') tx.sadd(this.runningKey, member);
    else tx.srem(this.runningKey, member);
    await tx.exec();
  }

  /** The runs recorded as `running` (by every worker), as (incident, runbook) pairs. */
  async running(): Promise<{ incidentId: string; runbookId: string }[]> {
    const members = await this.redis.smembers(this.runningKey);
    return members.map((m) => {
      const at = m.indexOf(':');
      return { incidentId: m.slice(0, at), runbookId: m.slice(at + 1) };
    });
  }

  /** Drops a pair from the running index (its record expired or was already finished). */
  async forgetRunning(incidentId: string, runbookId: string): Promise<void> {
    await this.redis.srem(this.runningKey, `${incidentId}:${runbookId}`);
  }
}
