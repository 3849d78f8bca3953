import type { CheckKind } from '../findings/finding.js';

/**
 * What each check's findings carry, so `reef runbooks lint` can tell a template that reads a fact the
 * check never produces (`{{facts.host}}` on a certificate finding) from one that will render. This list
 * is derived by hand from the checks' code (src/checks/*.ts): when a check gains or renames a fact,
 * update it here too, or lint will wrongly refuse templates that read the new fact.
 *
 * `sample` is a realistic value, used only at lint time to stand in for a template when the runbook's
 * params are validated against an executor's schema (see lint-steps.ts); it is never executed.
 */
export interface FactSpec {
  /** `scalar` facts can fill a template; lists and objects cannot (a template yields one string). */
  shape: 'scalar' | 'list' | 'object';
  /** Whether every finding of the condition carries it (a template over an optional one may fail to render). */
  always: boolean;
  /** May be null (for example `ownerName` of a bare pod): rendering it then fails, like a missing fact. */
  nullable?: boolean;
  sample: string;
}

type FactTable = Readonly<Record<string, FactSpec>>;

const scalar = (sample: string, extra: Partial<FactSpec> = {}): FactSpec => ({
  shape: 'scalar',
  always: true,
  sample,
  ...extra,
});
const optional = (sample: string, extra: Partial<FactSpec> = {}): FactSpec =>
  scalar(sample, { always: false, ...extra });
const list: FactSpec = { shape: 'list', always: true, sample: '' };

// pod-findings.ts: baseFacts() plus containerProblem()'s facts.
const podBase: FactTable = {
  cluster: scalar('home'),
  namespace: scalar('default'),
  pod: scalar('web-7d9f8b6c5-x2x4z'),
  ownerKind: scalar('Deployment', { nullable: true }),
  ownerName: scalar('web', { nullable: true }),
  ownerError: optional('forbidden'),
  stateful: scalar('false'),
  persistentVolumeClaims: { ...list, always: false },
  node: scalar('node-1', { nullable: true }),
};
const podContainer: FactTable = {
  container: scalar('web'),
  initContainer: optional('true'),
  restartCount: scalar('5'),
  lastTerminationReason: scalar('Error', { nullable: true }),
  exitCode: scalar('1', { nullable: true }),
  waitingReason: optional('CrashLoopBackOff'),
};

// disk.ts: judge().
const diskFacts: FactTable = {
  host: scalar('web-1'),
  mount: scalar('/var'),
  path: scalar('/var'),
  paths: list,
  filesystem: scalar('/dev/sda2'),
  usedPercent: scalar('92'),
  usedBytes: scalar('92000000000'),
  availableBytes: scalar('8000000000'),
  sizeBytes: scalar('100000000000'),
  inodesUsedPercent: scalar('40', { nullable: true }),
  warnPercent: scalar('85'),
  actPercent: scalar('90'),
  inodeWarnPercent: scalar('90'),
  latencyMs: scalar('12'),
};

// certificate.ts: the facts of a served certificate, and those of a failed connection.
const certificateFacts: FactTable = {
  url: scalar('https://www.example.org'),
  daysLeft: scalar('10'),
  notAfter: scalar('2025-01-01T00:00:00.000Z'),
  notBefore: scalar('2024-10-03T00:00:00.000Z'),
  issuer: scalar('C=US, O=Let us Encrypt, CN=R11'),
  subject: scalar('CN=www.example.org'),
  altNames: list,
  serialNumber: scalar('04A1'),
  fingerprint256: scalar('AB:CD'),
  authorized: scalar('true'),
  authorizationError: scalar('UNABLE_TO_VERIFY_LEAF_SIGNATURE', { nullable: true }),
  latencyMs: scalar('20'),
};
const certificateUnreachable: FactTable = {
  url: scalar('https://www.example.org'),
  host: scalar('www.example.org'),
  port: scalar('443'),
  error: scalar('connect ECONNREFUSED'),
  code: scalar('ECONNREFUSED', { nullable: true }),
  latencyMs: scalar('20'),
};

// http.ts: `status` only when a response came back.
const httpFacts: FactTable = {
  url: scalar('https://api.example.org/healthz'),
  method: scalar('GET'),
  latencyMs: scalar('20'),
  attempts: scalar('3'),
  expectStatus: list,
  status: optional('503'),
  failedAttempts: { ...list, always: false },
};

// error-logs.ts: findingOf() plus the source-specific extras (log-tail.ts, scanPodLogs()).
const errorLogFacts: FactTable = {
  source: scalar('web-1:/var/log/app.log'),
  pattern: scalar('ERROR'),
  window: scalar('1h'),
  windowMs: scalar('3600000'),
  current: scalar('120'),
  baseline: scalar('10', { nullable: true }),
  factor: scalar('12', { nullable: true }),
  spikeFactor: scalar('3'),
  minCount: scalar('10'),
  baselineWindows: scalar('6'),
  windowCounts: list,
  topMessages: list,
  samples: list,
  linesScanned: scalar('5000'),
  timestampsFound: scalar('5000'),
  matchingLines: scalar('120'),
  pods: optional('3'),
  utcOffsetMinutes: optional('0'),
  bytesRead: optional('1048576'),
  fileBytes: optional('1048576'),
  unlistedMatches: optional('4'),
  coveredFrom: optional('2025-01-01T00:00:00.000Z'),
};

export interface CheckFacts {
  /** The conditions the check reports (`ok` included), each with the facts its findings carry. */
  conditions: Readonly<Record<string, FactTable>>;
  /** A realistic finding target, for lint-time samples of `{{target}}`. */
  sampleTarget: string;
  /**
   * Set for checks whose conditions are open-ended (an alert's condition is its alertname, any name):
   * every condition carries these facts, and any other fact name is an optional scalar (a label that
   * some alerts carry). Rendering refuses a step whose fact is missing, so lint only warns.
   */
  open?: { facts: FactTable; other: FactSpec };
}

// src/intake/alert-finding.ts: an alert's labels, its summary and description annotations, and Reef's
// own facts about it. Labels vary by alert, so the common ones are listed with realistic samples.
const alertFacts: FactTable = {
  alertname: scalar('KubePodCrashLooping'),
  alertFingerprint: scalar('1a30ba71cca2921f'),
  startsAt: scalar('2025-01-01T00:00:00.000Z'),
  generatorURL: optional('http://prometheus.example.org:9090/graph'),
  summary: optional('Pod is crash looping.'),
  description: optional('Pod default/web is in waiting state (reason: CrashLoopBackOff).'),
  severity: optional('critical'),
  namespace: optional('default'),
  pod: optional('web-7d9f8b6c5-x2x4z'),
  container: optional('web'),
  deployment: optional('web'),
  statefulset: optional('db'),
  daemonset: optional('node-agent'),
  node: optional('node-1'),
  instance: optional('web-1:9100'),
  job: optional('node-exporter'),
  mountpoint: optional('/var'),
  device: optional('/dev/sda2'),
  service: optional('web'),
  cluster: optional('home'),
};

export const CHECK_FACTS: Readonly<Record<CheckKind, CheckFacts>> = {
  pods: {
    sampleTarget: 'default/web-7d9f8b6c5-x2x4z',
    conditions: {
      CrashLoopBackOff: { ...podBase, ...podContainer },
      OOMKilled: { ...podBase, ...podContainer, finishedAt: optional('2025-01-01T00:00:00Z') },
      ImagePullBackOff: {
        ...podBase,
        ...podContainer,
        image: optional('registry.example.org/web:1.2'),
        message: optional('manifest unknown'),
      },
      restarting: { ...podBase, ...podContainer, previousRestartCount: scalar('4') },
      Pending: {
        ...podBase,
        pendingForMs: scalar('900000'),
        reason: optional('Unschedulable'),
        message: optional('0/3 nodes are available'),
      },
      ok: {
        cluster: scalar('home'),
        namespace: optional('default'),
        pod: optional('web-7d9f8b6c5-x2x4z'),
        phase: optional('Running'),
        pods: optional('0'),
      },
    },
  },
  disk: {
    sampleTarget: 'web-1:/var',
    conditions: {
      'disk-critical': { ...diskFacts, largestDirectories: list, largestDirectoriesNote: optional('') },
      'disk-high': diskFacts,
      'inodes-high': diskFacts,
      ok: diskFacts,
    },
  },
  certificate: {
    sampleTarget: 'www-tls',
    conditions: {
      expired: certificateFacts,
      expiring: certificateFacts,
      'not-yet-valid': certificateFacts,
      untrusted: certificateFacts,
      'hostname-mismatch': certificateFacts,
      unreachable: certificateUnreachable,
      ok: certificateFacts,
    },
  },
  http: {
    sampleTarget: 'api',
    conditions: {
      unreachable: httpFacts,
      timeout: httpFacts,
      'bad-status': httpFacts,
      'body-mismatch': httpFacts,
      ok: { ...httpFacts, transient: scalar('false') },
    },
  },
  errorLogs: {
    sampleTarget: 'api-errors',
    conditions: { 'error-spike': errorLogFacts, ok: errorLogFacts },
  },
  alert: {
    sampleTarget: 'default/web-7d9f8b6c5-x2x4z',
    conditions: {},
    open: { facts: alertFacts, other: optional('example') },
  },
};

/** Whether runbooks may match any condition of `check` (alerts: the condition is the alertname). */
export function acceptsAnyCondition(check: CheckKind): boolean {
  return CHECK_FACTS[check].open !== undefined;
}

/** The conditions a check reports, `ok` excepted (no runbook fixes a healthy target). */
export function problemConditions(check: CheckKind): string[] {
  return Object.keys(CHECK_FACTS[check].conditions).filter((c) => c !== 'ok');
}

/**
 * What is known of fact `name` across `conditions` of `check`: absent from all of them, present in some
 * (or optional, or nullable: may fail to render), or always there. `shape` is the first seen. For a check
 * with open conditions (alerts), a name not in its table is an optional scalar: some label.
 */
export function factAcross(
  check: CheckKind,
  conditions: readonly string[],
  name: string,
): { presence: 'never' | 'sometimes' | 'always'; spec: FactSpec | undefined } {
  const open = CHECK_FACTS[check].open;
  if (open) {
    const spec = open.facts[name] ?? open.other;
    return { presence: spec.always && !spec.nullable ? 'always' : 'sometimes', spec };
  }
  const specs = conditions.map((c) => CHECK_FACTS[check].conditions[c]?.[name]);
  const found = specs.filter((s): s is FactSpec => s !== undefined);
  if (found.length === 0) return { presence: 'never', spec: undefined };
  const always = found.length === specs.length && found.every((s) => s.always && !s.nullable);
  return { presence: always ? 'always' : 'sometimes', spec: found[0] };
}

/** Every fact name a check produces under `conditions`, for "known facts" in lint messages. */
export function factNames(check: CheckKind, conditions: readonly string[]): string[] {
  const open = CHECK_FACTS[check].open;
  if (open) return Object.keys(open.facts).sort();
  const names = new Set<string>();
  for (const c of conditions)
    for (const n of Object.keys(CHECK_FACTS[check].conditions[c] ?? {})) names.add(n);
  return [...names].sort();
}
