import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { sleep } from '../../util/concurrency.js';

/** Where an incident's Slack message is: what `chat.update` and thread replies need. */
export interface MessageRef {
  channel: string;
  ts: string;
}

/** As long as incidents are kept (see IncidentStore): a click on an old message still finds its incident. */
const TTL_MS = 90 * 86_400_000;
const LOCK_MS = 30_000;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/**
 * One Slack message per incident, remembered in Redis so any bot process can update it and thread
 * under it, and so a click can be checked against the message it came from. Keys (under the prefix):
 * `slack:msg:<incident id>` → `{channel, ts}` · `slack:at:<channel>:<ts>` → incident id ·
 * `slack:lock:<incident id>` while a process creates the message.
 */
export class MessageRefs {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(...parts: string[]): string {
    return [this.prefix, 'slack', ...parts].join(':');
  }

  async get(incidentId: string): Promise<MessageRef | undefined> {
    const raw = await this.redis.get(this.key('msg', incidentId));
    return raw ? (JSON.parse(raw) as MessageRef) : undefined;
  }

  /** The incident whose message this is, if Reef posted it. */
  async incidentAt(channel: string, ts: string): Promise<string | undefined> {
    return (await this.redis.get(this.key('at', channel, ts))) ?? undefined;
  }

  async set(incidentId: string, ref: MessageRef): Promise<void> {
    await this.redis
      .multi()
      .set(this.key('msg', incidentId), JSON.stringify(ref), 'PX', TTL_MS)
      .set(this.key('at', ref.channel, ref.ts), incidentId, 'PX', TTL_MS)
      .exec();
  }

  /**
   * Runs `fn` while no other bot process works on this incident's message, so two processes handed
   * two events of a new incident post one message between them, not two.
   */
  async withLock<T>(incidentId: string, fn: () => Promise<T>): Promise<T> {
    const key = this.key('lock', incidentId);
    const token = randomUUID();
    const deadline = Date.now() + LOCK_MS;
    while ((await this.redis.set(key, token, 'PX', LOCK_MS, 'NX')) !== 'OK') {
      // A holder that died releases by expiry; past that, go ahead rather than lose the event.
      if (Date.now() > deadline) break;
      await sleep(25);
    }
    try {
      return await fn();
    } finally {
      await this.redis.eval(RELEASE, 1, key, token);
    }
  }
}
