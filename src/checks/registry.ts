import type { ReefConfig } from '../config/schema.js';
import type { CheckKind } from '../findings/finding.js';
import { certificateCheck } from './certificate.js';
import type { Check } from './check.js';
import { diskCheck } from './disk.js';
import { errorLogsCheck } from './error-logs.js';
import { httpCheck } from './http.js';
import { podsCheck } from './pods.js';

/** Every check Reef knows, listed explicitly (no auto-discovery). Add a new check here. */
export const CHECKS: { readonly [K in CheckKind]?: Check<unknown> } = {
  http: erase(httpCheck),
  certificate: erase(certificateCheck),
  pods: erase(podsCheck),
  disk: erase(diskCheck),
  errorLogs: erase(errorLogsCheck),
};

/**
 * A check's target type matters inside the check only; the sweep hands each check back the very targets
 * it listed, so the registry may forget the type.
 */
function erase<T>(check: Check<T>): Check<unknown> {
  return check as Check<unknown>;
}

export interface PlannedProbe {
  check: Check<unknown>;
  target: unknown;
  /** The target's name: what errors, incidents and `reef check <name>` call it. */
  name: string;
}

/** All configured (check, target) pairs, optionally only those whose name is `only`. */
export function planProbes(config: ReefConfig, only?: string): PlannedProbe[] {
  const plan: PlannedProbe[] = [];
  for (const check of Object.values(CHECKS)) {
    for (const target of check.targets(config)) {
      const name = check.nameOf(target);
      if (only === undefined || name === only) plan.push({ check, target, name });
    }
  }
  return plan;
}
