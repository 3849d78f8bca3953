import type { ReefConfig } from '../config/schema.js';
import type { CheckKind } from '../findings/finding.js';
import { certificateCheck } from './certificate.js';
import type { Check } from './check.js';
import { httpCheck } from './http.js';

/** Every check Reef knows, listed explicitly (no auto-discovery). Add a new check here. */
export const CHECKS: { readonly [K in CheckKind]: Check<{ name: string }> } = {
  http: httpCheck as unknown as Check<{ name: string }>,
  certificate: certificateCheck as unknown as Check<{ name: string }>,
};

export interface PlannedProbe {
  check: Check<{ name: string }>;
  target: { name: string };
}

/** All configured (check, target) pairs, optionally only those whose target name is `only`. */
export function planProbes(config: ReefConfig, only?: string): PlannedProbe[] {
  const plan: PlannedProbe[] = [];
  for (const check of Object.values(CHECKS)) {
    for (const target of check.targets(config)) {
      if (only === undefined || target.name === only) plan.push({ check, target });
    }
  }
  return plan;
}
