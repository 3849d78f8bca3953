import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { errorMessage } from '../errors.js';
import type { IncidentEvent } from './incident-event.js';

const GROUP = 'surfaces';
const MAX_LEN = 10_000;

/**
 * Incident events travel through a Redis stream, so the process that notices a problem (a worker) and
 * the one that talks to humans (the bot, or `reef start`'s console) need not be the same. A consumer
 * group delivers each event to one surface process; unacknowledged events of a crashed one are claimed.
 */
export class EventBus {
  private readonly stream: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.stream = `${prefix}:events`;
  }

  async publish(events: readonly IncidentEvent[]): Promise<void> {
    if (events.length === 0) return;
    const tx = this.redis.multi();
    for (const event of events)
      tx.xadd(this.stream, 'MAXLEN', '~', String(MAX_LEN), '*', 'event', JSON.stringify(event));
    await tx.exec();
  }

  /**
   * Delivers events to `handle` until `signal` aborts. `blocking` must be a connection of its own
   * (XREADGROUP BLOCK holds it). An event whose handler throws stays pending and is retried.
   * `group` names the consumer group: each group sees every event once (surfaces; memory notes).
   */
  async consume(
    blocking: Redis,
    handle: (event: IncidentEvent) => Promise<void>,
    signal: AbortSignal,
    onError: (message: string) => void = () => {},
    group: string = GROUP,
  ): Promise<void> {
    const consumer = `${hostname()}-${process.pid}`;
    try {
      await this.redis.xgroup('CREATE', this.stream, group, '0', 'MKSTREAM');
    } catch (error) {
      if (!errorMessage(error).includes('BUSYGROUP')) throw error;
    }
    let lastClaim = 0;
    while (!signal.aborted) {
      try {
        let entries: [string, string[]][] = [];
        if (Date.now() - lastClaim > 30_000) {
          lastClaim = Date.now();
          const claimed = (await this.redis.xautoclaim(
            this.stream,
            group,
            consumer,
            60_000,
            '0-0',
            'COUNT',
            100,
          )) as [string, [string, string[]][]];
          entries = claimed[1] ?? [];
        }
        if (entries.length === 0) {
          const read = (await blocking.xreadgroup(
            'GROUP',
            group,
            consumer,
            'COUNT',
            100,
            'BLOCK',
            1000,
            'STREAMS',
            this.stream,
            '>',
          )) as [string, [string, string[]][]][] | null;
          entries = read?.[0]?.[1] ?? [];
        }
        for (const [id, fields] of entries) {
          const raw = fields[fields.indexOf('event') + 1];
          if (raw) await handle(JSON.parse(raw) as IncidentEvent);
          await this.redis.xack(this.stream, group, id);
        }
      } catch (error) {
        if (signal.aborted) break;
        onError(errorMessage(error));
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }
}
