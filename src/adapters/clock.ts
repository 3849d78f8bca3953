/** Time as a port, so schedules, incident durations and flapping windows can be tested with a fake clock. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
