import type { CheckKind } from '../findings/finding.js';
import { acceptsAnyCondition, factAcross, factNames } from './facts.js';
import type { ProblemSink } from './problem-sink.js';
import { exprProblem, factName, parseTemplate, type TemplatePlace } from './templates.js';

/**
 * Checks the templates of one string: syntax, fields allowed at `place`, and for facts, that the check
 * produces them (a fact that only some findings carry is a warning in a step: the step will be refused
 * when it is missing). Returns whether the string is usable.
 */
export function checkTemplates(
  text: string,
  at: readonly PropertyKey[],
  place: TemplatePlace,
  check: CheckKind,
  conds: readonly string[],
  sink: ProblemSink,
): boolean {
  const parsed = parseTemplate(text);
  if ('error' in parsed) {
    sink.error(at, parsed.error);
    return false;
  }
  let ok = true;
  for (const part of parsed.parts) {
    if (typeof part === 'string') continue;
    const problem = exprProblem(part.expr, place);
    if (problem) {
      sink.error(at, problem);
      ok = false;
      continue;
    }
    const name = factName(part.expr);
    if (name === undefined) continue;
    const { presence, spec } = factAcross(check, conds, name);
    const on = `${check} findings (${conds.join(', ')})`;
    if (presence === 'never') {
      sink.error(
        at,
        `{{facts.${name}}}: ${on} never carry a fact "${name}" (they carry: ${factNames(check, conds).join(', ')})`,
      );
      ok = false;
    } else if (spec && spec.shape !== 'scalar') {
      sink.error(at, `{{facts.${name}}} is a ${spec.shape}, and a template takes one value`);
      ok = false;
    } else if (presence === 'sometimes' && place === 'step' && acceptsAnyCondition(check)) {
      sink.warn(
        at,
        `{{facts.${name}}}: alert facts are the alert's labels, and not every alert carries "${name}"; the step is refused for an alert without it`,
      );
    } else if (presence === 'sometimes' && place === 'step') {
      sink.warn(
        at,
        `{{facts.${name}}}: not every one of ${on} carries it (or it may be null); the step is refused when it is missing`,
      );
    }
  }
  return ok;
}
