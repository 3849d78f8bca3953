import { z } from 'zod';
import { parseDuration } from '../util/duration.js';

/**
 * The reef.yaml keys of Reef's memory and of the Nightly Brainstorm: where the memory git repository
 * lives and where it is pushed, which secret scanner guards its commits, how long metric history is
 * kept, and the thresholds the Brainstorm reports against. Spread into `configSchema` as one line.
 */

const DAY_MS = 86_400_000;

const retention = z
  .string()
  .refine((text) => parseDuration(text) !== undefined, {
    message: 'invalid duration (use e.g. 35d, 6w)',
  })
  .refine((text) => (parseDuration(text) ?? 0) >= 8 * DAY_MS, {
    message: 'must be at least 8d (the Brainstorm compares 7 days of history)',
  })
  .refine((text) => (parseDuration(text) ?? 0) <= 400 * DAY_MS, {
    message: 'must be at most 400d (history lives in Redis memory)',
  });

const remote = z
  .string()
  .min(1)
  .refine((url) => !/\s/.test(url), { message: 'must be a git remote URL or path, without spaces' })
  .describe(
    'Push every memory commit here (a git URL or a path to a bare repository). Credentials come from the environment (ssh agent, credential helper), never from this file.',
  );

export const memorySchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(true)
      .describe('Write incident notes and Brainstorm reports into the memory git repository.'),
    remote: remote.optional(),
    branch: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$/, 'must be a plain git branch name such as main')
      .default('main'),
    scanner: z
      .enum(['auto', 'trufflehog', 'gitleaks', 'embedded'])
      .default('auto')
      .describe(
        'Secret scanner run before every commit. auto: TruffleHog when `trufflehog` is on PATH, else gitleaks when on PATH, else the built-in scanner.',
      ),
    quarantineDir: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Where a file refused for holding a secret is kept, redacted, outside the repository. Default: <dataDir>/quarantine.',
      ),
  })
  .describe('Reef memory: a git repository of incident notes and Brainstorm reports.');

export const historySchema = z
  .strictObject({
    retention: retention
      .default('35d')
      .describe('How long per-target metrics (hourly buckets in Redis) and incident history are kept.'),
  })
  .describe('Metric history recorded by every sweep, read by the Nightly Brainstorm.');

export const brainstormSchema = z
  .strictObject({
    changePercent: z
      .number()
      .positive()
      .max(1000)
      .default(10)
      .describe('A drift over 7 days, or a jump after a rollout, at least this large (in %) is reported.'),
    certificateDays: z
      .number()
      .int()
      .min(1)
      .max(365)
      .default(30)
      .describe('Certificates expiring within this many days go on the calendar.'),
    diskHorizonDays: z
      .number()
      .int()
      .min(1)
      .max(365)
      .default(30)
      .describe('A disk forecast to be full within this many days is reported.'),
    promoteAfter: z
      .number()
      .int()
      .min(2)
      .max(100)
      .default(5)
      .describe(
        'A runbook approved this many times in a row, as proposed, with every verification passing, is suggested for mode auto.',
      ),
    maxRows: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(20)
      .describe('Rows per table in the report (the rest are counted).'),
  })
  .describe('What the Nightly Brainstorm reports (its schedule is schedule.brainstorm).');

/** The keys `configSchema` spreads in. */
export const memoryConfigShape = {
  memoryDir: z
    .string()
    .min(1)
    .optional()
    .describe(
      "Reef's memory git repository (created if missing), relative to this file's folder. Default: <dataDir>/memory.",
    ),
  memory: memorySchema.default({ enabled: true, branch: 'main', scanner: 'auto' }),
  history: historySchema.default({ retention: '35d' }),
  brainstorm: brainstormSchema.default({
    changePercent: 10,
    certificateDays: 30,
    diskHorizonDays: 30,
    promoteAfter: 5,
    maxRows: 20,
  }),
};

export type MemoryConfig = z.output<typeof memorySchema>;
export type HistoryConfig = z.output<typeof historySchema>;
export type BrainstormConfig = z.output<typeof brainstormSchema>;
