import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { errorMessage } from '../errors.js';

/**
 * Reads one Redis stream through a consumer group until `signal` aborts, handing each entry's JSON
 * `field` to `handle`, then acknowledging it. An entry whose handler throws stays pending and is
 * claimed again (`XAUTOCLAIM` after a minute, looked for every 30 s), also from a consumer that died:
 * nothing is lost, at the price of a rare second delivery. `blocking` must be a connection of its own
 * (XREADGROUP BLOCK holds it). Incident events and notices both travel this way.
 */
export async function consumeStream(
  redis: Redis,
  blocking: Redis,
  source: { stream: string; group: string; field: string; count: number },
  handle: (value: unknown) => Promise<void>,
  signal: AbortSignal,
  onError: (message: string) => void = () => {},
): Promise<void> {
  const { stream, group, field, count } = source;
  const consumer = `${hostname()}-${process.pid}`;
  try {
    await redis.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
  } catch (error) {
    if (!errorMessage(error).includes('BUSYGROUP')) throw error;
  }
  let lastClaim = 0;
  while (!signal.aborted) {
    try {
      let entries: [string, string[]][] = [];
      if (Date.now() - lastClaim > 30_000) {
        lastClaim = Date.now();
        const claimed = (await redis.xautoclaim(stream, group, consumer, 60_000, '0-0', 'COUNT', count)) as [
          string,
          [string, string[]][],
        ];
        entries = claimed[1] ?? [];
      }
      if (entries.length === 0) {
        const read = (await blocking.xreadgroup(
          'GROUP',
          group,
          consumer,
          'COUNT',
          count,
          'BLOCK',
          1000,
          'STREAMS',
          stream,
          '>',
        )) as [string, [string, string[]][]][] | null;
        entries = read?.[0]?.[1] ?? [];
      }
      for (const [id, fields] of entries) {
        const raw = fields[fields.indexOf(field) + 1];
        if (raw) await handle(JSON.parse(raw));
        await redis.xack(stream, group, id);
      }
    } catch (error) {
      if (signal.aborted) break;
      onError(errorMessage(error));
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}
