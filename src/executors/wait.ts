import { z } from 'zod';
import { sleep } from '../util/concurrency.js';
import { formatDuration, parseDuration } from '../util/duration.js';
import type { StepExecutor } from './executor.js';

const MAX_WAIT_MS = 30 * 60_000;

/** `wait: { for: 30s }` — lets a change settle before the next step (a rollout, a DNS update). */
export const waitExecutor: StepExecutor<{ for: string }> = {
  type: 'wait',
  mutates: false,
  schema: z.strictObject({
    for: z.string().refine((t) => {
      const ms = parseDuration(t);
      return ms !== undefined && ms <= MAX_WAIT_MS;
    }, 'must be a duration up to 30m, e.g. 30s or 2m'),
  }),
  describe: (params) => `wait ${formatDuration(parseDuration(params.for) ?? 0)}`,
  async execute(params, context) {
    const ms = parseDuration(params.for) ?? 0;
    await sleep(ms, context.signal);
    if (context.signal.aborted)
      return { ok: false, summary: `wait interrupted before ${formatDuration(ms)}` };
    return { ok: true, summary: `waited ${formatDuration(ms)}` };
  },
};
