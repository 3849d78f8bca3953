import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { parseDuration } from '../util/duration.js';
import { intakeConfigSchema } from './intake-schema.js';
import { llmConfigSchema } from './llm-schema.js';
import { memoryConfigShape } from './memory-schema.js';
import { slackConfigSchema } from './slack-schema.js';

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

const percent = z.number().min(1).max(100);

/** Runbook steps on a host through passwordless sudo; checks stay unprivileged. */
function become() {
  return z
    .boolean()
    .default(false)
    .describe(
      "Run runbook steps on this host as root through `sudo -n` (give Reef's user passwordless sudo for the commands its runbooks use); checks never do.",
    );
}

/** A machine Reef reaches over SSH (optionally through bastions) or runs commands on locally. */
export const hostSchema = z.union([
  z.strictObject({
    local: z.literal(true).describe('Run commands on this machine, without SSH (one-box home lab).'),
    become: become(),
  }),
  z.strictObject({
    host: z.string().min(1).describe('Address or DNS name.'),
    port: z.number().int().min(1).max(65535).default(22),
    username: z.string().min(1),
    privateKeyPath: z
      .string()
      .min(1)
      .optional()
      .describe('Private key file; without it, the SSH agent (SSH_AUTH_SOCK).'),
    via: z
      .string()
      .min(1)
      .optional()
      .describe('Name of another host in `hosts` to jump through (a bastion); chains of any depth.'),
    knownHostsPath: z.string().min(1).optional().describe('known_hosts file used to pin the host key.'),
    hostKeyFingerprint: z
      .string()
      .regex(/^SHA256:[A-Za-z0-9+/]{43}=?$/, 'must look like SHA256:<43 base64 characters> (ssh-keygen -lf)')
      .optional()
      .describe('Pinned host key fingerprint (as `ssh-keygen -lf` prints it).'),
    verifyHostKey: z.boolean().default(true).describe('Turning this off is insecure and logged loudly.'),
    timeoutMs: timeoutMs.default(10_000),
    become: become(),
  }),
]);

/** A Kubernetes cluster, from a kubeconfig file and context, or the in-cluster service account. */
export const clusterSchema = z.strictObject({
  kubeconfig: z.string().min(1).optional().describe('Path of the kubeconfig (default ~/.kube/config).'),
  context: z.string().min(1).optional().describe('Context in the kubeconfig (default: its current-context).'),
  inCluster: z.boolean().default(false).describe('Use the pod service account instead of a kubeconfig.'),
  namespaces: z.array(z.string().min(1)).min(1).optional().describe('Namespaces to watch (default: all).'),
});

export const podsTargetSchema = z.strictObject({
  cluster: z.string().min(1),
  namespaces: z.array(z.string().min(1)).min(1).optional().describe("Overrides the cluster's namespaces."),
  pendingAfter: duration.default('10m').describe('A pod Pending longer than this is reported.'),
  watch: z.boolean().default(true).describe('Also watch pods between sweeps for instant detection.'),
});

export const diskTargetSchema = z
  .strictObject({
    name: name.optional().describe('Defaults to the host name.'),
    host: z.string().min(1),
    paths: z.array(z.string().startsWith('/', 'must be an absolute path')).min(1).default(['/']),
    warnPercent: percent.default(85),
    actPercent: percent.default(90),
    inodeWarnPercent: percent.default(90),
    timeoutMs: timeoutMs.default(20_000),
  })
  .refine((t) => t.warnPercent < t.actPercent, {
    message: 'warnPercent must be below actPercent',
    path: ['warnPercent'],
  });

export const errorLogTargetSchema = z
  .strictObject({
    name,
    host: z.string().min(1).optional().describe('Read a log file on this host (with `path`).'),
    path: z.string().startsWith('/', 'must be an absolute path').optional(),
    cluster: z
      .string()
      .min(1)
      .optional()
      .describe('Read pod logs in this cluster (with `namespace` and `selector`).'),
    namespace: z.string().min(1).optional(),
    selector: z.string().min(1).optional().describe('Label selector, e.g. app=web.'),
    container: z.string().min(1).optional(),
    pattern: z.string().refine(isRegExp, { message: 'invalid regular expression' }),
    spikeFactor: z.number().gt(1).max(1000).default(3),
    window: duration.default('1h'),
    baselineWindows: z.number().int().min(1).max(168).default(6),
    minCount: z
      .number()
      .int()
      .min(1)
      .default(10)
      .describe('A window with fewer matches is never a spike (0 → 3 is not).'),
    timestampRegex: z
      .string()
      .refine(isRegExp, { message: 'invalid regular expression' })
      .optional()
      .describe('Regular expression whose first group is the timestamp, for formats Reef does not know.'),
    timeoutMs: timeoutMs.default(60_000),
  })
  .superRefine((t, ctx) => {
    const file = t.host !== undefined || t.path !== undefined;
    const pods = t.cluster !== undefined || t.namespace !== undefined || t.selector !== undefined;
    if (file === pods) {
      ctx.addIssue({
        code: 'custom',
        message: 'give either host + path (a log file) or cluster + namespace + selector (pod logs)',
      });
    } else if (file && (t.host === undefined || t.path === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'a log file needs both host and path' });
    } else if (pods && (t.cluster === undefined || t.namespace === undefined || t.selector === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'pod logs need cluster, namespace and selector' });
    }
  });

const checksSchema = z
  .strictObject({
    http: z.array(httpTargetSchema).default([]),
    certificates: z.array(certificateTargetSchema).default([]),
    pods: z.array(podsTargetSchema).default([]),
    disk: z.array(diskTargetSchema).default([]),
    errorLogs: z.array(errorLogTargetSchema).default([]),
  })
  .superRefine((checks, ctx) => {
    // The name that identifies each probe (and its incidents), and the field it comes from.
    const names: Record<string, { value: string; field: string }[]> = {
      http: checks.http.map((t) => ({ value: t.name, field: 'name' })),
      certificates: checks.certificates.map((t) => ({ value: t.name, field: 'name' })),
      pods: checks.pods.map((t) => ({ value: t.cluster, field: 'cluster' })),
      disk: checks.disk.map((t) => ({ value: t.name ?? t.host, field: t.name ? 'name' : 'host' })),
      errorLogs: checks.errorLogs.map((t) => ({ value: t.name, field: 'name' })),
    };
    for (const [kind, entries] of Object.entries(names)) {
      const seen = new Map<string, number>();
      entries.forEach(({ value, field }, index) => {
        const first = seen.get(value);
        if (first === undefined) {
          seen.set(value, index);
          return;
        }
        ctx.addIssue({
          code: 'custom',
          path: [kind, index, field],
          message: `duplicate name "${value}" (also at checks.${kind}[${first}]); names identify incidents, so they must be unique${field === 'name' ? '' : ` (set \`name\` to tell them apart)`}`,
        });
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
    approvals: z
      .strictObject({
        expireAfter: duration
          .default('30m')
          .describe(
            'How long a request for approval stays valid; after it, nothing runs and the incident is escalated.',
          ),
      })
      .default({ expireAfter: '30m' }),
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
    hosts: z.record(name, hostSchema).default({}).describe('Machines reached over SSH or locally, by name.'),
    clusters: z.record(name, clusterSchema).default({}).describe('Kubernetes clusters, by name.'),
    checks: checksSchema.default({ http: [], certificates: [], pods: [], disk: [], errorLogs: [] }),
    runbooks: z
      .strictObject({
        dir: z
          .string()
          .min(1)
          .optional()
          .describe(
            "Folder of runbook .md files, relative to this file's folder. Default: ./runbooks beside this file when it exists, else Reef's bundled runbooks.",
          ),
      })
      .default({}),
    slack: slackConfigSchema,
    llm: llmConfigSchema,
    intake: intakeConfigSchema,
    ...memoryConfigShape, // memoryDir, memory, history, brainstorm (memory-schema.ts)
  })
  .superRefine((config, ctx) => {
    const hostNames = Object.keys(config.hosts);
    const clusterNames = Object.keys(config.clusters);
    const unknown = (kind: 'host' | 'cluster', value: string, path: (string | number)[]) => {
      const known = kind === 'host' ? hostNames : clusterNames;
      ctx.addIssue({
        code: 'custom',
        path,
        message: `unknown ${kind} "${value}" (${known.length ? `known: ${known.join(', ')}` : `no ${kind}s are configured under ${kind}s:`})`,
      });
    };
    for (const [hostName, host] of Object.entries(config.hosts)) {
      if (!('via' in host) || host.via === undefined) continue;
      if (!config.hosts[host.via]) unknown('host', host.via, ['hosts', hostName, 'via']);
      const chain = [hostName];
      let next: string | undefined = host.via;
      while (next !== undefined) {
        if (chain.includes(next)) {
          ctx.addIssue({
            code: 'custom',
            path: ['hosts', hostName, 'via'],
            message: `bastion chain loops: ${[...chain, next].join(' → ')}`,
          });
          break;
        }
        chain.push(next);
        const hop: (typeof config.hosts)[string] | undefined = config.hosts[next];
        next = hop && 'via' in hop ? hop.via : undefined;
      }
      const bastion = config.hosts[host.via];
      if (bastion && 'local' in bastion) {
        ctx.addIssue({
          code: 'custom',
          path: ['hosts', hostName, 'via'],
          message: 'a local host cannot be a bastion',
        });
      }
    }
    config.checks.pods.forEach((t, i) => {
      if (!config.clusters[t.cluster]) unknown('cluster', t.cluster, ['checks', 'pods', i, 'cluster']);
    });
    config.checks.disk.forEach((t, i) => {
      if (!config.hosts[t.host]) unknown('host', t.host, ['checks', 'disk', i, 'host']);
    });
    config.checks.errorLogs.forEach((t, i) => {
      if (t.host !== undefined && !config.hosts[t.host])
        unknown('host', t.host, ['checks', 'errorLogs', i, 'host']);
      if (t.cluster !== undefined && !config.clusters[t.cluster])
        unknown('cluster', t.cluster, ['checks', 'errorLogs', i, 'cluster']);
    });
  })
  .describe('Reef configuration (reef.yaml). Secrets come from the environment, never from this file.');

export type ReefConfig = z.output<typeof configSchema>;
export type ReefConfigInput = z.input<typeof configSchema>;
export type HttpTarget = z.output<typeof httpTargetSchema>;
export type CertificateTarget = z.output<typeof certificateTargetSchema>;
export type HostConfig = z.output<typeof hostSchema>;
export type SshHostConfig = Exclude<HostConfig, { local: true }>;
export type ClusterConfig = z.output<typeof clusterSchema>;
export type PodsTarget = z.output<typeof podsTargetSchema>;
export type DiskTarget = z.output<typeof diskTargetSchema>;
export type ErrorLogTarget = z.output<typeof errorLogTargetSchema>;

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
