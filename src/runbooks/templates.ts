import type { FactValue } from '../findings/finding.js';

/**
 * `{{facts.pod}}`-style templates. A template is replaced inside the one string that holds it, so a
 * value can never become more (or fewer) than the part of the one parameter or argv element it sits in:
 * there is no word splitting, no shell, no nesting, no expressions.
 */

/** The fields a step parameter or an escalation message may read. */
export const TEMPLATE_FIELDS = ['facts.<name>', 'target', 'check', 'condition', 'incident.id'] as const;

/** Where a template sits decides what it may read. */
export type TemplatePlace = 'step' | 'message' | 'command';

export type TemplatePart = string | { expr: string };

const OPEN = '{{';
const CLOSE = '}}';
const EXPR = /^[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*)*$/;
// The placeholder names ssh.exec fills (src/executors/argv-template.ts accepts the same).
const ARG = /^[A-Za-z_][A-Za-z0-9_-]*$/;

export function hasTemplate(text: string): boolean {
  return text.includes(OPEN);
}

/** Splits text into literal parts and template expressions, or says why it cannot. */
export function parseTemplate(text: string): { parts: TemplatePart[] } | { error: string } {
  const parts: TemplatePart[] = [];
  let at = 0;
  while (at < text.length) {
    const open = text.indexOf(OPEN, at);
    if (open === -1) {
      parts.push(text.slice(at));
      break;
    }
    if (open > at) parts.push(text.slice(at, open));
    const close = text.indexOf(CLOSE, open + OPEN.length);
    if (close === -1) return { error: `"${text}": "{{" is never closed by "}}"` };
    const inner = text.slice(open + OPEN.length, close).trim();
    if (!EXPR.test(inner)) {
      return { error: `"${text.slice(open, close + CLOSE.length)}" is not a template field` };
    }
    parts.push({ expr: inner });
    at = close + CLOSE.length;
  }
  return { parts };
}

/** The template expressions in `text` (empty when it has none or does not parse). */
export function templateExprs(text: string): string[] {
  const parsed = parseTemplate(text);
  if ('error' in parsed) return [];
  return parsed.parts.flatMap((p) => (typeof p === 'string' ? [] : [p.expr]));
}

/** The fact a `facts.<name>` expression reads, else undefined. */
export function factName(expr: string): string | undefined {
  const match = /^facts\.([A-Za-z_][A-Za-z0-9_-]*)$/.exec(expr);
  return match?.[1];
}

/**
 * Why `expr` may not appear at `place`, or undefined when it may. Commands take only bare names (the
 * arguments the `ssh.exec` step passes), so every value reaching an argv is visible in the step.
 */
export function exprProblem(expr: string, place: TemplatePlace): string | undefined {
  if (place === 'command') {
    if (ARG.test(expr)) return undefined;
    return `{{${expr}}} cannot be used in a command: commands take named arguments such as {{size}}, which the ssh.exec step fills (e.g. args: { size: "{{facts.x}}" })`;
  }
  if (expr === 'target' || expr === 'check' || expr === 'condition' || expr === 'incident.id')
    return undefined;
  if (factName(expr) !== undefined) return undefined;
  const known = `known: ${TEMPLATE_FIELDS.join(', ')}`;
  if (expr === 'facts' || expr.startsWith('facts.'))
    return `{{${expr}}}: a template reads one fact by name, as {{facts.<name>}} (${known})`;
  const [head, ...rest] = expr.split('.');
  const hint = head === 'fact' && rest.length === 1 ? `; did you mean {{facts.${rest[0]}}}?` : '';
  return `unknown template field {{${expr}}} (${known})${hint}`;
}

/** What a rendered template reads from. */
export interface TemplateValues {
  facts: Readonly<Record<string, FactValue>>;
  target: string;
  check: string;
  condition: string;
  incidentId: string;
}

/** The value of one expression as a string, or why there is none (a phrase: "facts.pod <missing>"). */
export function resolveExpr(expr: string, values: TemplateValues): { value: string } | { missing: string } {
  switch (expr) {
    case 'target':
      return { value: values.target };
    case 'check':
      return { value: values.check };
    case 'condition':
      return { value: values.condition };
    case 'incident.id':
      return { value: values.incidentId };
  }
  const name = factName(expr);
  if (name === undefined) return { missing: 'is not a template field' };
  if (!Object.hasOwn(values.facts, name)) return { missing: 'is missing (the finding has no such fact)' };
  const fact = values.facts[name];
  if (fact === null || fact === undefined) return { missing: 'is null' };
  if (typeof fact === 'object') return { missing: 'is a list or an object, not one value' };
  return { value: String(fact) };
}

/**
 * Why a value may not go into a step parameter, or undefined. The executors validate their own fields
 * (Kubernetes names, roots, argv elements); this is the floor under all of them, because a fact comes
 * from the world being observed (a pod's name, a log line) and must never steer what a step does:
 * no control characters, no shell or glob metacharacters, no `..` segment, no leading `-` (an option).
 */
export function unsafeValue(value: string): string | undefined {
  if (value === '') return 'is empty';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
  if (/[\u0000-\u001f\u007f]/.test(value)) return 'holds a control character (newline, tab, NUL…)';
  const meta = /[;&|`$<>(){}[\]*?!\\'"~#\s]/.exec(value);
  if (meta)
    return `holds ${meta[0] === ' ' ? 'a space' : /\s/.test(meta[0]) ? 'whitespace' : `"${meta[0]}"`}, a shell or glob metacharacter`;
  if (value.split('/').includes('..')) return 'holds a ".." path segment';
  if (value.startsWith('-')) return 'starts with "-" (it could be read as an option)';
  return undefined;
}

/** Renders text whose templates are known to parse; `onMissing` decides what a missing value becomes. */
export function renderText(
  text: string,
  values: TemplateValues,
  onMissing: (expr: string, why: string) => string,
): string {
  const parsed = parseTemplate(text);
  if ('error' in parsed) return text;
  return parsed.parts
    .map((part) => {
      if (typeof part === 'string') return part;
      const resolved = resolveExpr(part.expr, values);
      return 'value' in resolved ? resolved.value : onMissing(part.expr, resolved.missing);
    })
    .join('');
}
