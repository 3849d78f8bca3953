import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import type { Finding } from '../findings/finding.js';

/**
 * What this process did, counted in memory: sweeps and their durations, probe durations by check,
 * findings by severity, runbook runs by result, alerts received. Every Reef process keeps its own and
 * serves it on its own `/metrics`; Prometheus sums them across processes (`sum by (...)`). What is shared
 * by all processes (incidents, queues, LLM spend) is not counted here but read from Redis at scrape time
 * (cluster-metrics.ts), so running several workers never double-counts it.
 *
 * A registry of Reef's own, not prom-client's global one, so a library that registers metrics globally
 * never leaks into Reef's output. Built on first use.
 */
export interface ProcessMetrics {
  registry: Registry;
  sweeps: Counter<never>;
  sweepDuration: Histogram<never>;
  checkDuration: Histogram<'check'>;
  checkErrors: Counter<'check'>;
  findings: Counter<'check' | 'severity'>;
  executions: Counter<'runbook' | 'result'>;
  alerts: Counter<'status'>;
  alertRequests: Counter<'code'>;
}

let built: ProcessMetrics | undefined;
let defaults = false;

export function processMetrics(): ProcessMetrics {
  if (built) return built;
  const registry = new Registry();
  const registers = [registry];
  built = {
    registry,
    sweeps: new Counter({ name: 'reef_sweeps_total', help: 'Sweeps this process ran.', registers }),
    sweepDuration: new Histogram({
      name: 'reef_sweep_duration_seconds',
      help: 'Wall time of the sweeps this process ran (every probe, concurrently).',
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    }),
    checkDuration: new Histogram({
      name: 'reef_check_duration_seconds',
      help: 'Time one probe took (one configured target of one check), by check.',
      labelNames: ['check'],
      buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    checkErrors: new Counter({
      name: 'reef_check_errors_total',
      help: 'Probes whose check could not do its job (not an unhealthy target), by check.',
      labelNames: ['check'],
      registers,
    }),
    findings: new Counter({
      name: 'reef_findings_total',
      help: 'Findings this process produced (sweeps and Alertmanager alerts), by check and severity.',
      labelNames: ['check', 'severity'],
      registers,
    }),
    executions: new Counter({
      name: 'reef_executions_total',
      help: 'Runbook runs this process finished, by runbook and result (succeeded, failed, refused, dry-run, …).',
      labelNames: ['runbook', 'result'],
      registers,
    }),
    alerts: new Counter({
      name: 'reef_alertmanager_alerts_total',
      help: 'Alerts received from Alertmanager by this process: firing, resolved, or skipped (no alertname).',
      labelNames: ['status'],
      registers,
    }),
    alertRequests: new Counter({
      name: 'reef_alertmanager_requests_total',
      help: 'Webhook requests to POST /alertmanager, by HTTP status code answered.',
      labelNames: ['code'],
      registers,
    }),
  };
  return built;
}

/** Adds Node's process metrics (CPU, memory, event loop, GC) as `reef_*`; once, by the process serving /metrics. */
export function enableDefaultMetrics(): void {
  if (defaults) return;
  defaults = true;
  collectDefaultMetrics({ register: processMetrics().registry, prefix: 'reef_' });
}

/** Counts one finished sweep: its duration, each probe's duration or error, its findings. */
export function observeSweep(run: {
  durationMs: number;
  findings: readonly Pick<Finding, 'check' | 'severity'>[];
  outcomes: readonly { check: string; status: string; durationMs?: number }[];
}): void {
  const m = processMetrics();
  m.sweeps.inc();
  m.sweepDuration.observe(run.durationMs / 1000);
  for (const o of run.outcomes) {
    if (o.durationMs !== undefined) m.checkDuration.observe({ check: o.check }, o.durationMs / 1000);
    if (o.status === 'error') m.checkErrors.inc({ check: o.check });
  }
  observeFindings(run.findings);
}

export function observeFindings(findings: readonly Pick<Finding, 'check' | 'severity'>[]): void {
  const m = processMetrics();
  for (const f of findings) m.findings.inc({ check: f.check, severity: f.severity });
}

/** Counts a runbook run the execution worker finished (the one line in execution/worker.ts). */
export function observeExecution(runbookId: string, result: string): void {
  processMetrics().executions.inc({ runbook: runbookId, result });
}
