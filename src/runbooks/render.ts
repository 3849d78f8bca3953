import { formatPath } from '../config/load.js';
import { errorMessage } from '../errors.js';
import type { StepExecutor } from '../executors/executor.js';
import { EXECUTORS } from '../executors/registry.js';
import type { Incident } from '../incidents/incident.js';
import { collectLeaves, type Leaf, withValues } from './params-leaves.js';
import { boundsOf, type Runbook } from './runbook.js';
import { renderText, resolveExpr, type TemplateValues, unsafeValue } from './templates.js';
import { isUnder, schemaProblems } from './zod-issues.js';

/** What a runbook is rendered for: an incident (its id, what was found, the facts). */
export type RenderSubject = Pick<Incident, 'id' | 'check' | 'target' | 'condition' | 'facts'>;

/** A step ready to run: params rendered, validated by the executor's schema and checked against the bounds. */
export interface RenderedStep {
  type: string;
  /** The executor schema's output (normalised paths and the like). */
  params: unknown;
  mutates: boolean;
  /** The exact call or argv, for the approval preview, `reef plan` and dry runs. */
  description: string;
}

/** Why one step cannot run for this incident: which parameter, fed by which template, and why. */
export interface RenderProblem {
  step: number;
  type: string;
  /** `steps[0].kubernetes.deletePod.pod` */
  field: string;
  /** The template expressions behind the field (`facts.pod`), when it is templated. */
  sources: string[];
  message: string;
}

export type RenderResult =
  | { status: 'ok'; steps: RenderedStep[]; escalationMessage?: string }
  | { status: 'refused'; problems: RenderProblem[] };

/**
 * Renders a runbook's steps for one incident. A pure function of its inputs (it does no I/O of its
 * own; an executor's `describe` may look a binary up on PATH), so a preview, `reef plan` and the run agree.
 * Every template value is a string, checked by `unsafeValue` (no shell or glob metacharacters, no `..`,
 * no leading `-`), then the whole params by the executor's schema and `check()`; all problems of all
 * steps are returned at once, each naming the fact that caused it. Nothing is rendered half: one
 * refused step refuses the run.
 */
export function render(
  runbook: Runbook,
  subject: RenderSubject,
  executors: Readonly<Record<string, StepExecutor<unknown>>> = EXECUTORS,
): RenderResult {
  const values = valuesOf(subject);
  const bounds = boundsOf(runbook);
  const problems: RenderProblem[] = [];
  const steps: RenderedStep[] = [];
  runbook.steps.forEach((step, index) => {
    const executor = executors[step.type];
    const at = ['steps', index, step.type];
    const problem = (path: readonly PropertyKey[], message: string, sources: string[] = []) =>
      problems.push({ step: index, type: step.type, field: formatPath([...at, ...path]), sources, message });
    if (!executor) {
      problem([], `step type "${step.type}" is not in the action list of this Reef`);
      return;
    }
    const leaves: Leaf[] = [];
    collectLeaves(step.params, [], leaves, () => {});
    const verdicts = leaves.map((leaf) => renderLeaf(leaf, values));
    const params = withValues(
      step.params,
      leaves,
      verdicts.map((v) => v.text),
    );
    const parsed = executor.schema.safeParse(params);
    const issues = parsed.success ? [] : schemaProblems(executor.schema, parsed.error, params);
    let refused = !parsed.success;
    leaves.forEach((leaf, li) => {
      const verdict = verdicts[li]!;
      const sources = exprsOf(leaf);
      const schemaMessages = issues.filter((p) => isUnder(p.path, leaf.path)).map((p) => p.message);
      const message = leafMessage(leaf, verdict, schemaMessages);
      if (message) {
        refused = true;
        problem(leaf.path, message, sources);
      }
    });
    for (const p of issues.filter((p) => !leaves.some((leaf) => isUnder(p.path, leaf.path)))) {
      problem(p.path, p.message);
    }
    if (refused) return;
    try {
      executor.check?.(parsed.data, bounds);
      steps.push({
        type: step.type,
        params: parsed.data,
        mutates: executor.mutates,
        description: executor.describe(parsed.data, bounds),
      });
    } catch (error) {
      problem([], errorMessage(error), leaves.flatMap(exprsOf));
    }
  });
  if (problems.length > 0) return { status: 'refused', problems };
  const result: RenderResult = { status: 'ok', steps };
  if (runbook.escalation) {
    // Prose for humans, never executed: a missing fact must not silence the escalation.
    result.escalationMessage = renderText(runbook.escalation.message, values, (expr) => `(${expr} unknown)`);
  }
  return result;
}

function valuesOf(subject: RenderSubject): TemplateValues {
  return {
    facts: subject.facts,
    target: subject.target,
    check: subject.check,
    condition: subject.condition,
    incidentId: subject.id,
  };
}

function exprsOf(leaf: Leaf): string[] {
  return leaf.parts.flatMap((p) => (typeof p === 'string' ? [] : [p.expr]));
}

interface LeafVerdict {
  text: string;
  /** `facts.ownerName is null`: the value could not be made at all. */
  missing: string[];
  /** Values that rendered but may not go into a step, each with its expression. */
  unsafe: { expr: string; value: string; why: string }[];
}

function renderLeaf(leaf: Leaf, values: TemplateValues): LeafVerdict {
  const verdict: LeafVerdict = { text: '', missing: [], unsafe: [] };
  verdict.text = leaf.parts
    .map((part) => {
      if (typeof part === 'string') return part;
      const resolved = resolveExpr(part.expr, values);
      if ('missing' in resolved) {
        verdict.missing.push(`${part.expr} ${resolved.missing}`);
        return '';
      }
      const why = unsafeValue(resolved.value);
      if (why) verdict.unsafe.push({ expr: part.expr, value: resolved.value, why });
      return resolved.value;
    })
    .join('');
  return verdict;
}

/**
 * Why one templated field is refused, naming the fact first for the operator:
 * `facts.pod "web;rm -rf /" holds ";", a shell or glob metacharacter; is not a valid Kubernetes name`.
 * A field with a missing value reports only that (the executor's verdict on half a value is noise).
 */
function leafMessage(leaf: Leaf, verdict: LeafVerdict, schemaMessages: string[]): string | undefined {
  if (verdict.missing.length > 0) return verdict.missing.join('; ');
  if (verdict.unsafe.length === 0 && schemaMessages.length === 0) return undefined;
  const shown = JSON.stringify(verdict.text);
  // Executors' messages often start with the value itself; say it once.
  const predicates = schemaMessages.map((m) => (m.startsWith(shown) ? m.slice(shown.length).trimStart() : m));
  const whole = leaf.parts.length === 1 && typeof leaf.parts[0] !== 'string';
  if (whole) {
    const [expr] = exprsOf(leaf);
    return `${expr} ${shown} ${[...verdict.unsafe.map((u) => u.why), ...predicates].join('; ')}`;
  }
  return [
    ...verdict.unsafe.map((u) => `${u.expr} ${JSON.stringify(u.value)} ${u.why}`),
    ...predicates.map((p) => `${shown} (from ${exprsOf(leaf).join(', ')}) ${p}`),
  ].join('; ');
}

/**
 * What the runbook's limits and escalation count runs of (together with the runbook id) for this
 * incident: `limits.target` rendered, or the incident's target when a fact it reads is missing (a pod
 * without an owner still gets a key).
 */
export function limitKey(runbook: Runbook, subject: RenderSubject): string {
  let complete = true;
  const key = renderText(runbook.limits.target, valuesOf(subject), () => {
    complete = false;
    return '';
  });
  return complete ? key : subject.target;
}

/** One line per problem, for audits, chat threads and errors. */
export function formatRenderProblems(runbook: Runbook, problems: readonly RenderProblem[]): string[] {
  return problems.map((p) => `${runbook.id}: ${p.field}: ${p.message}`);
}
