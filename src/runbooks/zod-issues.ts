import { z } from 'zod';

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

/** The keys a schema accepts at an object path, or none when that is not an object. */
export function knownKeys(root: z.core.$ZodType, segments: readonly PropertyKey[]): string[] {
  let schema: z.core.$ZodType | undefined = root;
  for (const segment of segments) {
    schema = unwrap(schema);
    if (!schema) return [];
    if (typeof segment === 'number' && schema instanceof z.ZodArray)
      schema = schema.element as z.core.$ZodType;
    else if (schema instanceof z.ZodObject)
      schema = schema.shape[String(segment)] as z.core.$ZodType | undefined;
    else if (schema instanceof z.ZodRecord) schema = schema.valueType as z.core.$ZodType;
    else return [];
  }
  schema = unwrap(schema);
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

function unwrap(schema: z.core.$ZodType | undefined): z.core.$ZodType | undefined {
  let current = schema;
  for (let i = 0; i < 10 && current; i++) {
    const def = current._zod.def as { innerType?: z.core.$ZodType; in?: z.core.$ZodType };
    if (def.innerType) current = def.innerType;
    else if (def.in && !(current instanceof z.ZodObject)) current = def.in;
    else break;
  }
  return current;
}

function valueAt(input: unknown, path: readonly (string | number)[]): unknown {
  let node = input;
  for (const segment of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string | number, unknown>)[segment];
  }
  return node;
}

/** Whether `path` is `prefix` or lies below it. */
export function isUnder(path: readonly PropertyKey[], prefix: readonly PropertyKey[]): boolean {
  return prefix.length <= path.length && prefix.every((p, i) => String(p) === String(path[i]));
}
