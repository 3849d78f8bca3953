import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { parseDuration } from '../util/duration.js';

/**
 * The schema of `reef.yaml`. Objects are strict: an unknown key is an error (a typo must not silently
 * disable a check). Secrets never appear here; they come from the environment (see `env.ts`).
 */

const name = z
  .string()
  .min(1)
  .max(100)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
    'must start with a letter or digit and use only letters, digits, ".", "_" and "-"',
  );

const timezone = z
  .string()
  .refine(isTimeZone, { message: 'unknown time zone (use an IANA name such as Europe/Berlin or UTC)' });

const cron = z.string().refine(isCron, {
  message:
    'invalid cron pattern (five fields: minute hour day-of-month month day-of-week, e.g. "*/15 * * * *")',
});

export const duration = z.string().refine((text) => parseDuration(text) !== undefined, {
  message: 'invalid duration (use e.g. 30s, 15m, 1h, 2d)',
});

const timeoutMs = z
  .number()
  .int('must be a whole number of milliseconds')
  .positive('must be a positive number of milliseconds')
  .max(600_000, 'must be at most 600000 ms (10 minutes)');

const httpMethod = z.enum(['GET', 'HEAD', 'POST', 'OPTIONS']);

export const httpTargetSchema = z
  .strictObject({
    name,
    url: z.url({ protocol: /^https?$/, error: 'Invalid URL (must be an http:// or https:// URL)' }),
    method: httpMethod.default('GET'),
    expectStatus: z
      .union([z.number().int().min(100).max(599), z.array(z.number().int().min(100).max(599)).min(1)])
      .default(200)
      .describe('Status code (or list of codes) that counts as healthy.'),
    bodyMatch: z
      .string()
      .refine(isRegExp, { message: 'invalid regular expression' })
      .optional()
      .describe('Regular expression the response body must match (the first 64 KiB are read).'),
    headers: z.record(z.string(), z.string()).default({}),
    timeoutMs: timeoutMs.default(5000),
    retries: z
      .number()
      .int()
      .min(0)
      .max(10)
      .default(2)
      .describe('Extra attempts before a failure counts as persistent.'),
    retryDelayMs: z
      .number()
      .int()
      .min(0)
      .max(60_000)
      .default(500)
      .describe('First backoff; doubles each retry.'),
    insecureTls: z
      .boolean()
      .default(false)
      .describe('Accept an untrusted certificate (the certificate check still reports it).'),
  })
  .describe('An HTTP endpoint that must answer with an expected status.');

export const certificateTargetSchema = z
  .strictObject({
    name,
    url: z.url({
      protocol: /^https$/,
      error: 'Invalid URL (must be an https:// URL, e.g. https://example.org:443)',
    }),
    servername: z
      .string()
      .min(1)
      .optional()
      .describe('SNI name to send; defaults to the URL host unless it is an IP.'),
    warnDays: z.number().positive().max(3650).default(14),
    criticalDays: z.number().nonnegative().max(3650).default(3),
    timeoutMs: timeoutMs.default(5000),
    caFile: z.string().min(1).optional().describe('PEM bundle of extra trusted CAs (for private PKI).'),
  })
  .refine((t) => t.criticalDays < t.warnDays, {
    message: 'criticalDays must be below warnDays',
    path: ['criticalDays'],
  })
  .describe('A TLS endpoint whose served certificate is checked for expiry, trust and name.');

const checksSchema = z
  .strictObject({
    http: z.array(httpTargetSchema).default([]),
    certificates: z.array(certificateTargetSchema).default([]),
  })
  .superRefine((checks, ctx) => {
    for (const kind of ['http', 'certificates'] as const) {
      const seen = new Map<string, number>();
      checks[kind].forEach((target, index) => {
        const first = seen.get(target.name);
        if (first !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: [kind, index, 'name'],
            message: `duplicate name "${target.name}" (also at checks.${kind}[${first}]); names identify incidents, so they must be unique`,
          });
        } else seen.set(target.name, index);
      });
    }
  });

export const configSchema = z
  .strictObject({
    $schema: z.string().optional(),
    timezone: timezone.default('UTC').describe('IANA time zone for schedules and displayed times.'),
    schedule: z
      .strictObject({
        checks: cron.default('*/15 * * * *'),
        brainstorm: cron.default('0 4 * * *'),
      })
      .default({ checks: '*/15 * * * *', brainstorm: '0 4 * * *' }),
    sweep: z
      .strictObject({
        concurrency: z.number().int().min(1).max(1000).default(64).describe('Probes in flight at once.'),
        runOnStart: z.boolean().default(true).describe('`reef start` sweeps once at boot, then on schedule.'),
      })
      .default({ concurrency: 64, runOnStart: true }),
    incidents: z
      .strictObject({
        flapThreshold: z
          .number()
          .int()
          .min(2)
          .max(100)
          .default(3)
          .describe('Openings within flapWindow after which a target counts as flapping and stops paging.'),
        flapWindow: duration.default('24h'),
      })
      .default({ flapThreshold: 3, flapWindow: '24h' }),
    dataDir: z
      .string()
      .min(1)
      .optional()
      .describe('Where Reef keeps local state (private Redis, audit mirror); default .reef'),
    redis: z
      .strictObject({
        prefix: z
          .string()
          .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, "_" and "-" only')
          .default('reef')
          .describe('Key prefix, so several Reefs can share one Redis.'),
      })
      .default({ prefix: 'reef' }),
    checks: checksSchema.default({ http: [], certificates: [] }),
  })
  .describe('Reef configuration (reef.yaml). Secrets come from the environment, never from this file.');

export type ReefConfig = z.output<typeof configSchema>;
export type ReefConfigInput = z.input<typeof configSchema>;
export type HttpTarget = z.output<typeof httpTargetSchema>;
export type CertificateTarget = z.output<typeof certificateTargetSchema>;

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function isCron(pattern: string): boolean {
  if (pattern.trim().split(/\s+/).length !== 5) return false;
  try {
    CronExpressionParser.parse(pattern);
    return true;
  } catch {
    return false;
  }
}

function isRegExp(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}
