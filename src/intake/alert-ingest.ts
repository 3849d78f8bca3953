import type { Logger } from 'pino';
import type { Clock } from '../adapters/clock.js';
import type { ProbeOutcome } from '../checks/sweep.js';
import type { ReefConfig } from '../config/schema.js';
import { errorMessage } from '../errors.js';
import type { EventBus } from '../events/event-bus.js';
import type { IncidentEvent } from '../events/incident-event.js';
import type { Finding } from '../findings/finding.js';
import type { IncidentTracker } from '../incidents/tracker.js';
import { observeFindings, processMetrics } from '../metrics/process-metrics.js';
import { alertFingerprint, alertToFinding } from './alert-finding.js';
import { type AlertmanagerPayload, WEBHOOK_VERSION } from './alertmanager-payload.js';

export interface AlertIngestDeps {
  config: ReefConfig;
  clock: Clock;
  tracker: IncidentTracker;
  bus: EventBus;
  /** The same decision hook as sweeps (execution/start.ts `startDeciding().afterIngest`). */
  afterIngest?: (events: readonly IncidentEvent[]) => Promise<void>;
  log?: Pick<Logger, 'warn' | 'error'>;
}

/** What one notification did, returned to Alertmanager as the response body (and useful in its logs). */
export interface AlertIngestResult {
  received: number;
  firing: number;
  resolved: number;
  /** Alerts not ingested, by position in `alerts[]`, with why. */
  skipped: { index: number; fingerprint: string; reason: string }[];
  /** Alerts Alertmanager left out of this notification (`max_alerts`); Reef never saw them. */
  truncatedAlerts: number;
  /** Incident changes worth announcing: a repeat of a firing alert updates quietly and adds none. */
  events: { type: IncidentEvent['type']; incident: string; target: string; condition: string }[];
  /** Set when deciding about a new incident failed (the incident itself is stored and announced). */
  decisionError?: string;
  warnings: string[];
}

/**
 * The name under which alerts of one alertname are folded into incidents (the incident's `probe`). One
 * per alertname, so a resolved alert only ever resolves its own incident, never another alert's on the
 * same target; the slash keeps it apart from every configured target name.
 */
export function alertProbe(alertname: string): string {
  return `alertmanager/${alertname}`;
}

/** Never null, so a full sweep's "no longer configured" rule never reaches alert incidents from here. */
const SCOPE = 'alertmanager';

/**
 * Feeds one notification through the real tracker: firing alerts open (or quietly update) incidents,
 * resolved ones resolve them. Alerts of a group are grouped per alertname into outcomes that `cover`
 * only their own targets, so a grouped notification speaks for exactly the alerts it carries. New
 * incidents are published on the bus, then decided on like a sweep's.
 */
export async function ingestAlerts(
  payload: AlertmanagerPayload,
  deps: AlertIngestDeps,
): Promise<AlertIngestResult> {
  const now = deps.clock.now();
  const settings = deps.config.intake.alertmanager;
  const result: AlertIngestResult = {
    received: payload.alerts.length,
    firing: 0,
    resolved: 0,
    skipped: [],
    truncatedAlerts: payload.truncatedAlerts ?? 0,
    events: [],
    warnings: [],
  };
  if (payload.version !== undefined && payload.version !== WEBHOOK_VERSION)
    result.warnings.push(
      `payload version "${payload.version}" (Reef reads version ${WEBHOOK_VERSION}); its shape matched`,
    );
  if (result.truncatedAlerts > 0)
    result.warnings.push(
      `${result.truncatedAlerts} alerts were truncated by Alertmanager (max_alerts) and not ingested; raise max_alerts or set it to 0`,
    );
  const byAlertname = new Map<string, Finding[]>();
  payload.alerts.forEach((alert, index) => {
    const alertname = alert.labels.alertname?.trim();
    if (!alertname) {
      result.skipped.push({ index, fingerprint: alertFingerprint(alert), reason: 'no alertname label' });
      return;
    }
    const finding = alertToFinding({ ...alert, labels: { ...alert.labels, alertname } }, settings, now);
    if (alert.status === 'firing') result.firing++;
    else result.resolved++;
    const list = byAlertname.get(alertname) ?? [];
    list.push(finding);
    byAlertname.set(alertname, list);
  });
  const metrics = processMetrics();
  if (result.firing) metrics.alerts.inc({ status: 'firing' }, result.firing);
  if (result.resolved) metrics.alerts.inc({ status: 'resolved' }, result.resolved);
  if (result.skipped.length) metrics.alerts.inc({ status: 'skipped' }, result.skipped.length);
  if (byAlertname.size === 0) return result;

  const outcomes: ProbeOutcome[] = [...byAlertname].map(([alertname, findings]) => ({
    status: findings.some((f) => f.severity !== 'ok') ? 'anomaly' : 'ok',
    check: 'alert',
    target: alertProbe(alertname),
    findings,
    covers: [...new Set(findings.map((f) => f.target))],
  }));
  observeFindings(outcomes.flatMap((o) => (o.status === 'error' ? [] : o.findings)));
  const events = await deps.tracker.ingest({ outcomes, only: SCOPE }, deps.config);
  await deps.bus.publish(events);
  result.events = events.map((e) => ({
    type: e.type,
    incident: e.incident.id,
    target: e.incident.target,
    condition: e.incident.condition,
  }));
  try {
    await deps.afterIngest?.(events);
  } catch (error) {
    // The incidents are stored and announced; a retry by Alertmanager would only update them, so
    // answering an error would not bring the decision back. Logged for the operator instead.
    result.decisionError = errorMessage(error);
    deps.log?.error({ err: result.decisionError }, 'deciding about alert incidents failed');
  }
  return result;
}
