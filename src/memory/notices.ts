import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { errorMessage } from '../errors.js';
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
    const consumer = `${hostname()}-${process.pid}`;
    try {
      await this.redis.xgroup('CREATE', this.stream, GROUP, '0', 'MKSTREAM');
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
            GROUP,
            consumer,
            60_000,
            '0-0',
            'COUNT',
            20,
          )) as [string, [string, string[]][]];
          entries = claimed[1] ?? [];
        }
        if (entries.length === 0) {
          const read = (await blocking.xreadgroup(
            'GROUP',
            GROUP,
            consumer,
            'COUNT',
            20,
            'BLOCK',
            1000,
            'STREAMS',
            this.stream,
            '>',
          )) as [string, [string, string[]][]][] | null;
          entries = read?.[0]?.[1] ?? [];
        }
        for (const [id, fields] of entries) {
          const raw = fields[fields.indexOf('notice') + 1];
          if (raw) await show(surface, JSON.parse(raw) as Notice);
          await this.redis.xack(this.stream, GROUP, id);
        }
      } catch (error) {
        if (signal.aborted) break;
        onError(errorMessage(error));
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }
}

async function show(surface: ChatSurface, notice: Notice): Promise<void> {
  if (notice.kind === 'alert') return surface.say(notice.text);
  if (surface.postDigest) return surface.postDigest(notice.digest);
  return surface.say(`${notice.digest.title}\n${notice.digest.summary}`);
}
