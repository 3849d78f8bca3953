import { parseTemplate, type TemplatePart } from './templates.js';

/** A string somewhere in a step's params that holds templates, split into literal text and templates. */
export interface Leaf {
  path: (string | number)[];
  parts: TemplatePart[];
}

/** Finds the templated strings; false (after reporting) when a key holds a template. */
export function collectLeaves(
  value: unknown,
  path: (string | number)[],
  leaves: Leaf[],
  badKey: (path: (string | number)[]) => void,
): boolean {
  if (typeof value === 'string') {
    if (!value.includes('{{')) return true;
    const parsed = parseTemplate(value);
    // Unparsable templates are reported by checkTemplates; keep the leaf as one literal part.
    leaves.push({ path, parts: 'parts' in parsed ? parsed.parts : [value] });
    return true;
  }
  if (Array.isArray(value))
    return value.every((item, i) => collectLeaves(item, [...path, i], leaves, badKey));
  if (isRecord(value)) {
    let ok = true;
    for (const [key, item] of Object.entries(value)) {
      if (key.includes('{{')) {
        badKey([...path, key]);
        ok = false;
      } else ok = collectLeaves(item, [...path, key], leaves, badKey) && ok;
    }
    return ok;
  }
  return true;
}

/** A copy of `params` with each leaf replaced by the value at the same index. */
export function withValues(
  params: unknown,
  leaves: readonly { path: (string | number)[] }[],
  values: readonly string[],
): unknown {
  // Params that are one template string (never valid, but the result stays total).
  const whole = leaves.findIndex((l) => l.path.length === 0);
  if (whole !== -1) return values[whole];
  const copy = structuredClone(params);
  leaves.forEach((leaf, i) => {
    let node = copy as Record<string | number, unknown>;
    for (const segment of leaf.path.slice(0, -1)) node = node[segment] as Record<string | number, unknown>;
    node[leaf.path.at(-1)!] = values[i];
  });
  return copy;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
