import { z } from 'zod';

/** The keys a schema accepts at an object path (to suggest the right spelling), or none when that is not an object. */
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

/** The input value at a path; zod 4 issues do not carry it, and "missing" reads differently from "wrong". */
export function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let node = input;
  for (const segment of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<PropertyKey, unknown>)[segment];
  }
  return node;
}

/** Looks through optional/default/pipe wrappers to the schema that holds the shape. */
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
