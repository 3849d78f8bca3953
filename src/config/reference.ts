/**
 * The configuration reference (docs/configuration.md), generated from the JSON Schema that is itself
 * generated from the zod schema: one table per section, a row per setting with its type, default and
 * description. A test keeps the shipped file in sync, so the reference cannot drift from what Reef
 * accepts. Regenerate with `npm run -s docs`.
 */

interface JsonSchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minItems?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
}

interface Row {
  key: string;
  type: string;
  required: boolean;
  default: string;
  description: string;
}

export function configReference(schema: JsonSchema): string {
  const sections: { title: string; rows: Row[] }[] = [];
  const top: Row[] = [];
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    if (name === '$schema') continue;
    const required = schema.required?.includes(name) ?? false;
    if (isObjectLike(child)) {
      const rows: Row[] = [];
      walk(child, name, required, rows);
      sections.push({ title: name, rows });
    } else {
      top.push(rowOf(name, child, required));
    }
  }
  const lines = [
    '# Configuration reference',
    '',
    '<!-- Generated from schema/reef.schema.json by `npm run -s docs`; do not edit by hand. -->',
    '',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal ${VAR} syntax users write
    'Reef reads `reef.yaml` (or `--config`, `REEF_CONFIG`). Unknown keys are errors, every problem is listed with its line. String values may use `${VAR}` or `${VAR:-default}`; secrets belong in the environment (see `.env.example`). Editors complete and check the file through `# yaml-language-server: $schema=./schema/reef.schema.json`.',
    '',
    'In keys, `[]` is an item of a list and `<name>` a name you choose.',
    '',
    '## Top level',
    '',
    ...table(top),
  ];
  for (const section of sections) {
    lines.push('', `## \`${section.title}\``, '', ...table(section.rows));
  }
  return `${lines.join('\n')}\n`;
}

function isObjectLike(s: JsonSchema): boolean {
  const inner = s.anyOf?.length === 1 ? s.anyOf[0]! : s;
  return (
    inner.type === 'object' ||
    (inner.type === 'array' && inner.items !== undefined && isObjectLike(inner.items)) ||
    (s.anyOf ?? s.oneOf ?? []).some((alt) => alt.type === 'object' && alt.properties !== undefined)
  );
}

function walk(s: JsonSchema, key: string, required: boolean, rows: Row[]): void {
  if (s.type === 'array' && s.items && isObjectLike(s.items)) {
    rows.push(rowOf(key, s, required));
    walk(s.items, `${key}[]`, false, rows);
    return;
  }
  const alternatives = (s.anyOf ?? s.oneOf ?? []).filter((a) => a.type === 'object' && a.properties);
  if (alternatives.length > 1) {
    rows.push(rowOf(key, s, required));
    alternatives.forEach((alt, i) => {
      for (const [name, child] of Object.entries(alt.properties ?? {})) {
        const childKey = `${key}.${name}`;
        if (rows.some((r) => r.key === childKey)) continue;
        const row = rowOf(childKey, child, alt.required?.includes(name) ?? false);
        row.description = `(form ${i + 1}) ${row.description}`.trim();
        rows.push(row);
      }
    });
    return;
  }
  if (s.properties) {
    if (key.includes('.') || key.endsWith('[]')) rows.push(rowOf(key, s, required));
    for (const [name, child] of Object.entries(s.properties)) {
      const childKey = `${key}.${name}`;
      if (isObjectLike(child)) walk(child, childKey, s.required?.includes(name) ?? false, rows);
      else rows.push(rowOf(childKey, child, s.required?.includes(name) ?? false));
    }
    return;
  }
  if (typeof s.additionalProperties === 'object') {
    rows.push(rowOf(key, s, required));
    const value = s.additionalProperties;
    if (isObjectLike(value)) walk(value, `${key}.<name>`, false, rows);
    else rows.push(rowOf(`${key}.<name>`, value, false));
    return;
  }
  rows.push(rowOf(key, s, required));
}

function rowOf(key: string, s: JsonSchema, required: boolean): Row {
  return {
    key,
    type: typeOf(s),
    required,
    default: s.default === undefined ? '' : `\`${JSON.stringify(s.default)}\``,
    description: [s.description ?? '', constraints(s)].filter(Boolean).join(' '),
  };
}

function typeOf(s: JsonSchema): string {
  if (s.enum) return `one of ${s.enum.map((v) => `\`${JSON.stringify(v)}\``).join(', ')}`;
  if (s.const !== undefined) return `\`${JSON.stringify(s.const)}\``;
  const alts = s.anyOf ?? s.oneOf;
  if (alts) return [...new Set(alts.map(typeOf))].join(' or ');
  if (s.type === 'array') return `list of ${s.items ? typeOf(s.items) : 'values'}`;
  if (s.type === 'object' && typeof s.additionalProperties === 'object')
    return `map of ${typeOf(s.additionalProperties)}`;
  if (Array.isArray(s.type)) return s.type.join(' or ');
  if (s.format === 'uri') return 'URL';
  return s.type ?? 'any';
}

function constraints(s: JsonSchema): string {
  const parts: string[] = [];
  if (s.minimum !== undefined && s.maximum !== undefined) parts.push(`${s.minimum}–${s.maximum}.`);
  else if (s.maximum !== undefined) parts.push(`At most ${s.maximum}.`);
  else if (s.minimum !== undefined) parts.push(`At least ${s.minimum}.`);
  return parts.join(' ');
}

function table(rows: readonly Row[]): string[] {
  if (rows.length === 0) return ['(none)'];
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  return [
    '| key | type | default | description |',
    '|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| \`${r.key}\`${r.required ? ' (required)' : ''} | ${cell(r.type)} | ${r.default.replace(/\|/g, '\\|')} | ${cell(r.description)} |`,
    ),
  ];
}
