/**
 * What a Nightly Brainstorm computed: plain numbers, each section's rows and the suggestions drawn from
 * them, each with its evidence. The Markdown report, the chat digest and the `--json` output are all
 * renderings of this one object; the LLM, when used, only writes prose around it and is checked against
 * it. Numbers are rounded once, here, so every rendering prints the same figure.
 */

export interface IncidentSummary {
  opened: number;
  /** A runbook ran in mode auto and its verification passed. */
  fixedAutomatically: number;
  /** A human approved a runbook run. */
  approved: number;
  escalated: number;
  dismissed: number;
  resolved: number;
  /** Resolved without any runbook run (the target recovered on its own). */
  recoveredOnTheirOwn: number;
  /** Mean open → resolved of the incidents resolved in the window, ms; null when none resolved. */
  mttrMs: number | null;
  openedByCheck: Record<string, number>;
}

export interface DriftRow {
  kind: 'error-rate' | 'http-latency';
  target: string;
  unit: string;
  /** The fitted value 7 days before the end of the window, and at its end. */
  start: number;
  end: number;
  /** Change over the 7 days, %. */
  changePercent: number;
  /** Mean of the last 7 days against the 7 before, %; null without two weeks of history. */
  weekOverWeekPercent: number | null;
  /** Weekly means, oldest first (up to 5 weeks; null where a week has no data). */
  weekly: (number | null)[];
  /** Hourly points the 7-day line rests on. */
  points: number;
}

export interface RestartRow {
  target: string;
  cluster: string;
  namespace: string;
  workload: string;
  restarts24h: number;
  restarts7d: number;
  oom24h: number;
  oom7d: number;
  /** OOM kills per day, oldest first (7 days ending with the window). */
  oomPerDay: number[];
  /** OOM kills rising day over day: the shape of a slow memory leak. */
  leakSuspected: boolean;
}

export interface DiskRow {
  target: string;
  usedPercent: number;
  /** Growth of used space, percentage points per day (7-day fit). */
  growthPerDay: number;
  daysToFull: number;
  /** ISO-8601. */
  fullAt: string;
  points: number;
}

export interface CertificateRow {
  target: string;
  /** ISO-8601. */
  notAfter: string;
  /** Local date of `notAfter` in the configured zone. */
  date: string;
  daysLeft: number;
  subject?: string;
}

export interface FlapRow {
  check: string;
  target: string;
  condition: string;
  openings: number;
  lastSummary: string;
}

export interface PromotionRow {
  runbookId: string;
  /** Approvals in a row, as proposed, each verified. */
  streak: number;
  mode: string | null;
}

export interface RunbookFailureRow {
  runbookId: string;
  failures: number;
  lastReason: string;
  /** ISO-8601. */
  lastAt: string;
}

export interface CorrelationRow {
  cluster: string;
  namespace: string;
  deployment: string;
  revision: string;
  /** ISO-8601: the ReplicaSet's creation. */
  rolloutAt: string;
  /** What changed: an error rate (errorLogs target) or the workload's restarts. */
  metric: 'error-rate' | 'restarts';
  series: string;
  before: number;
  after: number;
  unit: string;
  /** null when it rose from zero. */
  changePercent: number | null;
}

export interface Suggestion {
  section: string;
  title: string;
  evidence: string[];
}

export interface BrainstormReport {
  date: string;
  timezone: string;
  /** ISO-8601. */
  from: string;
  to: string;
  generatedAt: string;
  summary: IncidentSummary;
  errorDrift: DriftRow[];
  latencyDrift: DriftRow[];
  /** Series examined per drift kind (rows list only those past the threshold). */
  examined: { errorRate: number; latency: number; disks: number; workloads: number };
  restarts: RestartRow[];
  disks: DiskRow[];
  certificates: CertificateRow[];
  flapping: FlapRow[];
  promotions: PromotionRow[];
  failedRunbooks: RunbookFailureRow[];
  deployments: CorrelationRow[];
  suggestions: Suggestion[];
  /** What the report could not see (a cluster it could not read, too little history…). */
  notes: string[];
  /** Settings the numbers were judged against. */
  thresholds: {
    changePercent: number;
    certificateDays: number;
    diskHorizonDays: number;
    promoteAfter: number;
  };
  /** The LLM's prose summary, when one was written and passed the number check. */
  prose?: string;
}
