import type { Redis } from 'ioredis';
import type { IncidentEvent } from './incident-event.js';
import { consumeStream } from './stream-consumer.js';

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
    await consumeStream(
      this.redis,
      blocking,
      { stream: this.stream, group, field: 'event', count: 100 },
      (value) => handle(value as IncidentEvent),
      signal,
      onError,
    );
  }
}
