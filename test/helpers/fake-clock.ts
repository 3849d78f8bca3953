import type { Clock } from '../../src/adapters/clock.js';

/** A clock the test moves by hand. */
export class FakeClock implements Clock {
  private ms: number;
  constructor(start = '2026-11-28T03:00:00Z') {
    this.ms = Date.parse(start);
  }
  now(): Date {
    return new Date(this.ms);
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}
