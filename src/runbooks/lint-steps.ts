import { errorMessage } from '../errors.js';
import type { RunbookBounds, StepExecutor } from '../executors/executor.js';
import type { CheckKind } from '../findings/finding.js';
import { CHECK_FACTS, factAcross } from './facts.js';
import type { FrontMatter } from './front-matter.js';
import { checkTemplates } from './lint-templates.js';
import { collectLeaves, isRecord, type Leaf, withValues } from './params-leaves.js';
import type { ProblemSink } from './problem-sink.js';
import type { RunbookStep } from './runbook.js';
import { factName } from './templates.js';
import { isUnder, type SchemaProblem, schemaProblems } from './zod-issues.js';

export interface StepLintContext {
  sink: ProblemSink;
  front: FrontMatter;
  executors: Readonly<Record<string, StepExecutor<unknown>>>;
  check: CheckKind;
  conditions: readonly string[];
  bounds: RunbookBounds;
  /** Steps not to check (already reported as garbled). */
  skip?: (index: number) => boolean;
}

/** Checks each step: one executor type from the registry, params its schema and bounds accept. */
export function lintSteps(raw: readonly unknown[], context: StepLintContext): RunbookStep[] {
  const { sink, executors } = context;
  const steps: RunbookStep[] = [];
  raw.forEach((step, i) => {
    const at = ['steps', i];
    if (!isRecord(step) || Object.keys(step).length !== 1) {
      sink.error(at, 'a step is one executor type and its params, e.g. "- wait: { for: 30s }"');
      return;
    }
    const [type, rawParams] = Object.entries(step)[0]!;
    const executor = executors[type];
    if (!executor) {
      const known = Object.keys(executors).sort();
      sink.error([...at, type], `unknown step type "${type}": the closed action list is ${known.join(', ')}`);
      return;
    }
    const params = rawParams ?? {};
    steps.push({ type, params, line: context.front.lineOf(at) });
    if (!context.skip?.(i)) lintParams(executor, params, [...at, type], context);
  });
  return steps;
}

/**
 * Validates one step's params against its executor before any finding exists. Params without templates
 * are validated exactly (schema, then `check()` against the runbook's bounds). A templated value is only
 * known at render time, so it is stood in for by candidate values: the check's realistic sample fact
 * first, then each declared root (and a path inside it), then a plain word. A problem is a lint error
 * only when no candidate avoids it — then it is the runbook's fault (a literal path outside the roots, a
 * command not declared), not the facts'. A problem that only the sample shows is a warning: a typical
 * finding would be refused. Render time validates again, with the real facts.
 */
function lintParams(
  executor: StepExecutor<unknown>,
  params: unknown,
  at: (string | number)[],
  context: StepLintContext,
): void {
  const { sink, bounds } = context;
  const leaves: Leaf[] = [];
  if (
    !collectLeaves(params, [], leaves, (path) =>
      sink.error([...at, ...path], 'templates go in values, never in keys'),
    )
  )
    return;
  let usable = true;
  for (const leaf of leaves) {
    const text = leaf.parts.map((p) => (typeof p === 'string' ? p : `{{${p.expr}}}`)).join('');
    usable =
      checkTemplates(text, [...at, ...leaf.path], 'step', context.check, context.conditions, sink) && usable;
  }
  if (!usable) return;

  const evaluate = (candidate: unknown): Outcome => {
    const parsed = executor.schema.safeParse(candidate);
    if (!parsed.success) return { problems: schemaProblems(executor.schema, parsed.error, candidate) };
    try {
      executor.check?.(parsed.data, bounds);
      return { problems: [] };
    } catch (error) {
      return { problems: [], checkError: errorMessage(error) };
    }
  };

  if (leaves.length === 0) {
    const outcome = evaluate(params);
    for (const p of outcome.problems) sink.error([...at, ...p.path], p.message);
    if (outcome.checkError) sink.error(at, outcome.checkError);
    return;
  }

  const candidates = candidateValues(leaves, context);
  const render = (leaf: Leaf, k: number) =>
    leaf.parts
      .map((p) => {
        if (typeof p === 'string') return p;
        const options = candidates.get(p.expr)!;
        return options[Math.min(k, options.length - 1)]!;
      })
      .join('');
  const samples = leaves.map((leaf) => render(leaf, 0));
  const rounds = Math.max(...[...candidates.values()].map((c) => c.length));
  const outcomes: Outcome[] = [];
  for (let k = 0; k < rounds; k++) {
    // Each templated value takes its k-th candidate where the schema accepts it there, else its sample.
    const values = leaves.map((leaf, li) => {
      if (k === 0) return samples[li]!;
      const value = render(leaf, k);
      const alone = evaluate(withValues(params, leaves, samples.with(li, value)));
      return alone.problems.some((p) => isUnder(p.path, leaf.path)) ? samples[li]! : value;
    });
    outcomes.push(evaluate(withValues(params, leaves, values)));
  }
  const sample = outcomes[0]!;
  const sampleNote = () =>
    `with a typical ${context.check} finding (${[...candidates].map(([e, c]) => `${e} = "${c[0]}"`).join(', ')})`;
  const templated = (p: SchemaProblem) => leaves.some((leaf) => isUnder(p.path, leaf.path));

  // A template always renders a string: a field of another type can never take one.
  const wrongType = (p: SchemaProblem) => templated(p) && p.expected !== undefined && p.expected !== 'string';
  for (const p of sample.problems.filter(wrongType)) {
    sink.error([...at, ...p.path], `a template renders a string, and this field takes a ${p.expected}`);
  }
  if (outcomes.some((o) => o.problems.length === 0 && !o.checkError)) {
    if (sample.checkError) sink.warn(at, `${sampleNote()} this step would be refused: ${sample.checkError}`);
    return;
  }
  const fixed = sample.problems.filter(
    (p) => !templated(p) && outcomes.every((o) => o.problems.some((q) => samePlace(p, q))),
  );
  for (const p of fixed) sink.error([...at, ...p.path], p.message);
  if (fixed.length > 0) return;
  const checked = outcomes.find((o) => o.problems.length === 0);
  if (checked?.checkError) {
    sink.error(at, checked.checkError);
    return;
  }
  for (const p of sample.problems.filter(templated)) {
    if (wrongType(p)) continue;
    sink.warn([...at, ...p.path], `${sampleNote()}: ${p.message}`);
  }
}

interface Outcome {
  problems: SchemaProblem[];
  checkError?: string;
}

function samePlace(a: SchemaProblem, b: SchemaProblem): boolean {
  return a.message === b.message && a.path.map(String).join('.') === b.path.map(String).join('.');
}

/** The stand-ins for each template expression, the realistic sample first. */
function candidateValues(leaves: readonly Leaf[], context: StepLintContext): Map<string, string[]> {
  const { bounds } = context;
  const out = new Map<string, string[]>();
  for (const leaf of leaves) {
    for (const part of leaf.parts) {
      if (typeof part === 'string' || out.has(part.expr)) continue;
      const sample = sampleOf(part.expr, context);
      const inRoots = bounds.roots.flatMap((r) => [r, `${r}/placeholder`]);
      out.set(part.expr, [...new Set([sample, ...inRoots, 'placeholder'])]);
    }
  }
  return out;
}

/** A typical value of one expression for this runbook's findings (see `sample` in facts.ts). */
function sampleOf(expr: string, { check, conditions }: StepLintContext): string {
  const fact = factName(expr);
  if (fact !== undefined) return factAcross(check, conditions, fact).spec?.sample || 'placeholder';
  if (expr === 'target') return CHECK_FACTS[check].sampleTarget;
  if (expr === 'check') return check;
  if (expr === 'condition') return conditions[0] ?? 'condition';
  return '42';
}
