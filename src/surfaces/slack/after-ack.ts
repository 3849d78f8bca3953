import { setImmediate as yieldToIo } from 'node:timers/promises';

/**
 * Runs the work a Slack request asked for after its ack, a few requests' work at a time. Slack gives
 * up on an ack after 3 seconds, and in one Node process every ack waits for whatever work holds the
 * event loop: fifty clicks arriving together must not start fifty chains of Redis calls, renders and
 * API calls before the last of them is acked. With a small number running, each short step is
 * followed by a turn of the event loop in which new requests are read and acked; the rest waits here.
 *
 * A slot is given back when the work settles or after `holdMs`, whichever comes first: the limit is
 * for the busy start of the work, not for its long waits (a `/reef check` waiting for its sweep, a post
 * waiting out Slack's Retry-After), which must never hold up other people's clicks.
 */
export class AfterAck {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(
    concurrency = 4,
    private readonly holdMs = 200,
  ) {
    this.free = concurrency;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    // Always let pending I/O (other requests waiting for their ack) go first.
    await yieldToIo();
    if (this.free === 0) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.free--;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      clearTimeout(timer);
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    };
    const timer = setTimeout(release, this.holdMs);
    try {
      return await work();
    } finally {
      release();
    }
  }
}
