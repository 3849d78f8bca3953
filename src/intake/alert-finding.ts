import { createHash } from 'node:crypto';
import type { Facts, Finding, Severity } from '../findings/finding.js';
import { makeFinding } from '../findings/finding.js';
import type { AlertmanagerAlert } from './alertmanager-payload.js';

/**
 * Turns one Alertmanager alert into a Reef finding of check `alert`, so alerts flow through the same
 * incidents, runbooks and approvals as Reef's own checks. The condition is the alertname; the target is
 * a readable identity taken from the labels (the same labels give the same target on every repeat, so
 * the finding's fingerprint is stable); the facts are the labels, for runbooks to read as
 * `{{facts.<label>}}`.
 */

export interface AlertSeverityOptions {
  /** Severity of an alert without a `severity` label. */
  defaultSeverity: Severity;
  /** `severity` label values (any case) → Reef severities, over the built-in map. */
  severities: Readonly<Record<string, Severity>>;
}

/** Common `severity` label values; `none` (Watchdog, InfoInhibitor) opens no incident. */
const BUILT_IN_SEVERITIES: Readonly<Record<string, Severity>> = {
  critical: 'critical',
  crit: 'critical',
  error: 'critical',
  err: 'critical',
  page: 'critical',
  high: 'critical',
  fatal: 'critical',
  emergency: 'critical',
  disaster: 'critical',
  warning: 'warning',
  warn: 'warning',
  medium: 'warning',
  average: 'warning',
  low: 'warning',
  info: 'warning',
  informational: 'warning',
  notice: 'warning',
  none: 'ok',
  ok: 'ok',
};

export function alertSeverity(
  labels: Readonly<Record<string, string>>,
  options: AlertSeverityOptions,
): Severity {
  const raw = labels.severity?.trim();
  if (!raw) return options.defaultSeverity;
  const value = raw.toLowerCase();
  const configured = Object.entries(options.severities).find(([label]) => label.toLowerCase() === value)?.[1];
  return configured ?? BUILT_IN_SEVERITIES[value] ?? options.defaultSeverity;
}

/** Kubernetes objects named by kube-state-metrics labels, most specific first (after `pod`). */
const WORKLOAD_LABELS = [
  'deployment',
  'statefulset',
  'daemonset',
  'replicaset',
  'job_name',
  'cronjob',
  'persistentvolumeclaim',
  'horizontalpodautoscaler',
] as const;

/**
 * The thing the alert is about, readable and stable: `namespace/pod` (plus `/container` when the alert
 * names one, as KubePodCrashLooping does), else `namespace/<kind>/<name>` for a workload, else the
 * `instance` (plus `:mountpoint` or `:device` for filesystem and disk alerts), else `node/<node>`, else
 * the `job`, else the `namespace`, else `alert-<fingerprint>`. The `instance` of a kube-state-metrics
 * alert is the exporter, not the subject, which is why the Kubernetes labels come first.
 */
export function alertTarget(labels: Readonly<Record<string, string>>, fingerprint: string): string {
  const ns = labels.namespace;
  const inNamespace = (name: string) => (ns ? `${ns}/${name}` : name);
  if (labels.pod) return inNamespace(labels.container ? `${labels.pod}/${labels.container}` : labels.pod);
  for (const kind of WORKLOAD_LABELS) {
    const name = labels[kind];
    if (name) return inNamespace(`${kind === 'job_name' ? 'job' : kind}/${name}`);
  }
  if (labels.instance) {
    const part = labels.mountpoint || labels.device;
    return part ? `${labels.instance}:${part}` : labels.instance;
  }
  if (labels.node) return `node/${labels.node}`;
  if (labels.job) return labels.job;
  if (ns) return ns;
  return `alert-${fingerprint}`;
}

/** Alertmanager's fingerprint, or (for a sender that omits it) one computed from the label set. */
export function alertFingerprint(alert: Pick<AlertmanagerAlert, 'fingerprint' | 'labels'>): string {
  if (alert.fingerprint) return alert.fingerprint;
  const pairs = Object.keys(alert.labels)
    .sort()
    .map((k) => `${k}\u0000${alert.labels[k]}`)
    .join('\u0001');
  return createHash('sha256').update(pairs).digest('hex').slice(0, 16);
}

/** Reef's facts beside the labels; they win over a label of the same name. */
export const ALERT_META_FACTS = ['startsAt', 'generatorURL', 'alertFingerprint'] as const;

/**
 * The finding for one alert that has an alertname (the caller skips the others). A resolved alert is
 * an `ok` finding: it resolves the incident its firing opened.
 */
export function alertToFinding(
  alert: AlertmanagerAlert & { labels: { alertname: string } },
  options: AlertSeverityOptions,
  observedAt: Date,
): Finding {
  const fingerprint = alertFingerprint(alert);
  const alertname = alert.labels.alertname;
  const target = alertTarget(alert.labels, fingerprint);
  const facts: Facts = { ...alert.labels };
  // The annotations people read; a label of the same name (rare) is kept.
  for (const key of ['summary', 'description'] as const) {
    const text = alert.annotations[key];
    if (text !== undefined && !Object.hasOwn(facts, key)) facts[key] = text;
  }
  facts.startsAt = alert.startsAt;
  if (alert.generatorURL) facts.generatorURL = alert.generatorURL;
  facts.alertFingerprint = fingerprint;
  const severity = alert.status === 'resolved' ? 'ok' : alertSeverity(alert.labels, options);
  const told = firstLine(alert.annotations.summary ?? alert.annotations.description);
  // Surfaces print the condition (the alertname) beside the summary: the summary need not repeat it.
  const summary = alert.status === 'resolved' ? `resolved on ${target}` : (told ?? `firing on ${target}`);
  return makeFinding({ check: 'alert', target, condition: alertname, severity, summary, facts }, observedAt);
}

function firstLine(text: string | undefined): string | undefined {
  const line = text?.trim().split('\n')[0]?.trim();
  if (!line) return undefined;
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}
