import type { Redis } from 'ioredis';
import { consumeStream } from '../events/stream-consumer.js';
import type { ChatSurface, Digest } from '../surfaces/chat-surface.js';

/**
 * Messages for humans that are not about one incident: the morning Brainstorm digest and alerts such as
 * a memory commit refused for holding a secret. The worker that writes them is often not the process
 * that talks to humans, so they travel on a Redis stream (`<prefix>:notices`), like incident events,
 * and a consumer group delivers each one to one surface process; an undelivered one is retried.
 */
export type Notice = { kind: 'digest'; digest: Digest } | { kind: 'alert'; text: string; at: string };

const GROUP = 'surfaces';
const MAX_LEN = 1000;

export class NoticeBus {
  private readonly stream: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.stream = `${prefix}:notices`;
  }

  async publish(notice: Notice): Promise<void> {
    await this.redis.xadd(this.stream, 'MAXLEN', '~', String(MAX_LEN), '*', 'notice', JSON.stringify(notice));
  }

  /**
   * Delivers notices to `surface` until `signal` aborts: a digest through `postDigest` (or as plain text
   * for a surface without one), an alert through `say`. `blocking` must be a connection of its own.
   */
  async deliver(
    blocking: Redis,
    surface: ChatSurface,
    signal: AbortSignal,
    onError: (message: string) => void = () => {},
  ): Promise<void> {
    await consumeStream(
      this.redis,
      blocking,
      { stream: this.stream, group: GROUP, field: 'notice', count: 20 },
      (value) => show(surface, value as Notice),
      signal,
      onError,
    );
  }
}

async function show(surface: ChatSurface, notice: Notice): Promise<void> {
  if (notice.kind === 'alert') return surface.say(notice.text);
  if (surface.postDigest) return surface.postDigest(notice.digest);
  return surface.say(`${notice.digest.title}\n${notice.digest.summary}`);
}
