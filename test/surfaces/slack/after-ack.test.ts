import { describe, expect, it } from 'vitest';
import { AfterAck } from '../../../src/surfaces/slack/after-ack.js';

describe('work after the ack', () => {
  it('runs a few at a time', async () => {
    const limit = new AfterAck(2, 10_000);
    let running = 0;
    let most = 0;
    const work = () =>
      limit.run(async () => {
        most = Math.max(most, ++running);
        await new Promise((r) => setTimeout(r, 20));
        running--;
      });
    await Promise.all(Array.from({ length: 7 }, work));
    expect(most).toBe(2);
  });

  it('a long wait gives its slot back after holdMs, so it never holds up the others', async () => {
    const limit = new AfterAck(1, 50);
    const started: number[] = [];
    const t0 = performance.now();
    const slow = limit.run(async () => {
      started.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 1000));
    });
    const quick = limit.run(async () => {
      started.push(performance.now() - t0);
    });
    await quick;
    expect(started[1]).toBeLessThan(500);
    expect(started[1]).toBeGreaterThanOrEqual(45);
    await slow;
  });
});
