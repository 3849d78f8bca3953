import { type Clock, systemClock } from '../../src/adapters/clock.js';
import { configSchema, type ReefConfigInput } from '../../src/config/schema.js';
import { defaultPorts } from '../../src/execution/deps.js';
import type { RunbookBounds, StepContext, StepExecutor, StepResult } from '../../src/executors/executor.js';

/** Runbook bounds with nothing allowed; tests add what they need. */
export function bounds(extra: Partial<RunbookBounds> = {}): RunbookBounds {
  return {
    id: 'test-runbook',
    dir: '/nonexistent',
    commands: {},
    roots: [],
    idempotent: false,
    stateful: false,
    ...extra,
  };
}

/**
 * The real ports a step runs with (host port over SSH or local, Kubernetes adapter), built from a config
 * as Reef does, plus the progress lines the step logged. Call `close()` when done.
 */
export function stepContext(options: {
  config?: ReefConfigInput | Record<string, unknown>;
  runbook?: Partial<RunbookBounds>;
  clock?: Clock;
}): StepContext & { lines: string[]; close(): Promise<void> } {
  const config = configSchema.parse(options.config ?? {});
  // The ports a worker gives steps (hosts with `become: true` go through sudo), as execution/deps.ts builds them.
  const ports = defaultPorts(config);
  const { hosts, kube } = ports;
  const lines: string[] = [];
  return {
    hosts,
    kube,
    clock: options.clock ?? systemClock,
    runbook: bounds(options.runbook),
    signal: new AbortController().signal,
    log: (line) => void lines.push(line),
    lines,
    async close() {
      await ports.close();
    },
  };
}

/** What the execution worker does with a step: validate params with the schema, check the bounds, run. */
export async function runStep<P>(
  executor: StepExecutor<P>,
  params: unknown,
  context: StepContext,
): Promise<StepResult> {
  const parsed = executor.schema.parse(params);
  executor.check?.(parsed, context.runbook);
  return executor.execute(parsed, context);
}

/** The schema's or check()'s refusal message, or undefined when the params pass both. */
export function refusal<P>(
  executor: StepExecutor<P>,
  params: unknown,
  runbook: RunbookBounds = bounds(),
): string | undefined {
  const parsed = executor.schema.safeParse(params);
  if (!parsed.success) return parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
  try {
    executor.check?.(parsed.data, runbook);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
