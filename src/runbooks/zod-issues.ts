import type { z } from 'zod';
import { knownKeys, valueAt } from '../util/zod-paths.js';

/** One schema problem: its path below the schema's root and a message for the operator. */
export interface SchemaProblem {
  path: PropertyKey[];
  message: string;
  /** For a value of the wrong type: the type expected (`string`, `number`…). */
  expected?: string;
}

/**
 * zod issues as one problem per field: an unknown key points at the key itself (with the keys accepted
 * there, to show the right spelling), a missing field says "required".
 */
export function schemaProblems(
  schema: z.core.$ZodType,
  error: z.core.$ZodError,
  input: unknown,
): SchemaProblem[] {
  return error.issues.flatMap((issue): SchemaProblem[] => {
    const at = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeys(schema, at);
      return issue.keys.map((key) => ({
        path: [...at, key],
        message: `unknown key${known.length ? ` (known here: ${known.join(', ')})` : ''}`,
      }));
    }
    // zod leaves `issue.input` out unless asked: look the value up to tell "missing" from "wrong".
    const absent = valueAt(input, at) === undefined;
    if (issue.code === 'invalid_type' && absent)
      return [{ path: at, message: `required (${issue.expected})`, expected: issue.expected }];
    if (issue.code === 'invalid_type')
      return [{ path: at, message: issue.message, expected: issue.expected }];
    if (issue.code === 'invalid_union' && absent) return [{ path: at, message: 'required' }];
    return [{ path: at, message: issue.message }];
  });
}

/** Whether `path` is `prefix` or lies below it. */
export function isUnder(path: readonly PropertyKey[], prefix: readonly PropertyKey[]): boolean {
  return prefix.length <= path.length && prefix.every((p, i) => String(p) === String(path[i]));
}
