import type { ReefConfig } from '../config/schema.js';
import { errorMessage } from '../errors.js';
import type { CheckError, CheckKind, Finding } from '../findings/finding.js';
import { mapLimit } from '../util/concurrency.js';
import type { CheckContext } from './check.js';
import { planProbes } from './registry.js';

/**
 * One probe's result: healthy, unhealthy, or the check itself failed. `target` is the configured target
 * (an endpoint, a cluster, a host); its findings may name finer targets (`namespace/pod`, `host:/var`).
 * `covers`, when set, limits what the outcome speaks for to those finding targets (a watch event about
 * one pod says nothing about the others); when absent it speaks for everything the probe watches.
 */
export type ProbeOutcome = (
  | {
      status: 'ok' | 'anomaly';
      check: CheckKind;
      target: string;
      findings: Finding[];
      covers?: readonly string[];
    }
  | { status: 'error'; check: CheckKind; target: string; error: string }
) & {
  /** How long the probe took (for slowest-first ordering next time); absent for watch events. */
  durationMs?: number;
};

export interface SweepResult {
  startedAt: string;
  durationMs: number;
  /** Every finding, `ok` ones included, in configuration order. */
  findings: Finding[];
  errors: CheckError[];
  /** Number of (check, target) pairs probed. */
  probed: number;
  /** Target names the sweep was limited to, or null for a full sweep. */
  only: string | null;
}

/** A sweep with its per-probe outcomes, which the incident tracker needs and callers need not keep. */
export interface SweepRun extends SweepResult {
  outcomes: ProbeOutcome[];
}

export interface SweepOptions {
  /** Probe only the target with this name. */
  only?: string;
  /** A probe that has not settled by then is abandoned and reported as a check error. */
  probeDeadlineMs?: number;
  /**
   * How long each probe took last time (key from `probeKey`). Probes start slowest first, so a slow
   * endpoint overlaps the many fast ones instead of starting last and stretching the sweep.
   * Probes with no history start first of all: they may be slow.
   */
  latencyHints?: ReadonlyMap<string, number>;
}

export function probeKey(check: string, target: string): string {
  return `${check}\u0000${target}`;
}

/** Each probed target's latency in this sweep, to pass as `latencyHints` to the next one. */
export function latencyHintsFrom(run: Pick<SweepRun, 'outcomes'>): Map<string, number> {
  const hints = new Map<string, number>();
  for (const o of run.outcomes)
    if (o.durationMs !== undefined) hints.set(probeKey(o.check, o.target), o.durationMs);
  return hints;
}

/**
 * Runs every configured probe with bounded concurrency. A probe that throws (or never settles) is a
 * check error; it never aborts the sweep.
 */
export async function runSweep(
  config: ReefConfig,
  context: CheckContext,
  options: SweepOptions = {},
): Promise<SweepRun> {
  const started = context.clock.now();
  const t0 = performance.now();
  const plan = planProbes(config, options.only);
  const hints = options.latencyHints;
  // Longest first (the LPT rule); the outcomes are put back in configuration order below.
  const order = plan.map((_, i) => i);
  if (hints && hints.size > 0) {
    const expected = plan.map((p) => hints.get(probeKey(p.check.kind, p.name)) ?? Number.POSITIVE_INFINITY);
    order.sort((a, b) => expected[b]! - expected[a]! || a - b);
  }
  const deadline = options.probeDeadlineMs ?? 300_000;
  const ordered = await mapLimit(order, config.sweep.concurrency, async (index): Promise<ProbeOutcome> => {
    const { check, target, name } = plan[index]!;
    const started = performance.now();
    const base = { check: check.kind, target: name };
    const took = () => Math.round((performance.now() - started) * 10) / 10;
    try {
      const findings = await withDeadline(check.probe(target, context), deadline);
      if (findings.length === 0) {
        return {
          ...base,
          status: 'error',
          error: 'the check returned no result for this target',
          durationMs: took(),
        };
      }
      const healthy = findings.every((f) => f.severity === 'ok');
      return { ...base, status: healthy ? 'ok' : 'anomaly', findings, durationMs: took() };
    } catch (error) {
      return { ...base, status: 'error', error: errorMessage(error), durationMs: took() };
    }
  });
  const outcomes = new Array<ProbeOutcome>(plan.length);
  order.forEach((planIndex, i) => {
    outcomes[planIndex] = ordered[i]!;
  });
  const findings: Finding[] = [];
  const errors: CheckError[] = [];
  for (const outcome of outcomes) {
    if (outcome.status === 'error') {
      errors.push({
        check: outcome.check as CheckError['check'],
        target: outcome.target,
        message: outcome.error,
      });
    } else findings.push(...outcome.findings);
  }
  return {
    startedAt: started.toISOString(),
    durationMs: Math.round(performance.now() - t0),
    findings,
    errors,
    probed: plan.length,
    only: options.only ?? null,
    outcomes,
  };
}

async function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the check did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Nagios plugin convention: 0 ok, 1 warning, 2 critical, 3 unknown (a check could not run). */
export function exitCodeFor(result: Pick<SweepResult, 'findings' | 'errors'>): 0 | 1 | 2 | 3 {
  if (result.findings.some((f) => f.severity === 'critical')) return 2;
  if (result.errors.length > 0) return 3;
  if (result.findings.some((f) => f.severity === 'warning')) return 1;
  return 0;
}
