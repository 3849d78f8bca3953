import type { StepExecutor } from './executor.js';
import { waitExecutor } from './wait.js';

/**
 * Every step a runbook may use: the closed action list. A step type not listed here does not load, so
 * nothing outside this list can ever run. Add an executor file and list it here.
 */
export const EXECUTORS: Readonly<Record<string, StepExecutor<unknown>>> = Object.fromEntries(
  [erase(waitExecutor)].map((e) => [e.type, e]),
);

/** The registry forgets each executor's parameter type; the loader validates params with its schema first. */
function erase<P>(executor: StepExecutor<P>): StepExecutor<unknown> {
  return executor as StepExecutor<unknown>;
}
