import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { ReefError } from '../errors.js';
import { offsetOfPath } from '../util/yaml-paths.js';
import { knownKeys, valueAt } from '../util/zod-paths.js';
import { configSchema, type ReefConfig } from './schema.js';

/** The config shipped with Reef and used when no file is given: Reef watches its own health endpoint. */
export const EMBEDDED_CONFIG_PATH = fileURLToPath(new URL('../../examples/reef.yaml', import.meta.url));

export interface LoadedConfig {
  config: ReefConfig;
  /** Absolute path of the file read, or the embedded default's path. */
  path: string;
  embedded: boolean;
}

/**
 * Resolves which file to read: `--config`, then `REEF_CONFIG`, then `./reef.yaml`, then the embedded
 * example. An explicitly named file that does not exist is an error, never a silent fallback.
 */
export function resolveConfigPath(
  explicit: string | undefined,
  env: NodeJS.ProcessEnv,
  cwd: string,
): { path: string; embedded: boolean } {
  const named = explicit ?? env.REEF_CONFIG;
  if (named) {
    const resolved = path.resolve(cwd, expandHome(named, env));
    if (!existsSync(resolved)) {
      throw new ReefError('reef_config_missing', `Config file not found: ${resolved}`, {
        hint: `${explicit ? '--config' : 'REEF_CONFIG'} names a file that does not exist. Fix the path, or copy examples/reef.yaml there and edit it.`,
      });
    }
    return { path: resolved, embedded: false };
  }
  const local = path.resolve(cwd, 'reef.yaml');
  if (existsSync(local)) return { path: local, embedded: false };
  return { path: EMBEDDED_CONFIG_PATH, embedded: true };
}

export function loadConfig(
  explicit: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): LoadedConfig {
  const { path: file, embedded } = resolveConfigPath(explicit, env, cwd);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ReefError('reef_config_missing', `Cannot read config file ${file}`, {
      cause: error,
      hint: 'Check the file permissions.',
    });
  }
  return { config: parseConfig(text, file, env), path: file, embedded };
}

/** Parses and validates config text. Every problem is reported at once, each with line and path. */
export function parseConfig(
  text: string,
  file = 'reef.yaml',
  env: NodeJS.ProcessEnv = process.env,
): ReefConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ReefError('reef_config_invalid', `${file} is not valid YAML`, {
      details: doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        return `${pos ? `line ${pos.line}, column ${pos.col}` : 'somewhere'}: ${firstLine(e.message).replace(/ at line \d+, column \d+:?$/, '')}`;
      }),
      hint: 'Fix the YAML syntax (indentation, quotes, colons) at the places listed.',
    });
  }
  const missing: string[] = [];
  const raw: unknown = interpolate(doc.toJS() ?? {}, env, [], missing);
  if (missing.length > 0) {
    throw new ReefError('reef_config_invalid', `${file} uses environment variables that are not set`, {
      details: missing,
      hint: `Set them (in the environment or ./.env), or give a default as \${NAME:-default}.`,
    });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ReefError(
      'reef_config_invalid',
      `${file} must hold a mapping (key: value pairs) at the top level`,
      {
        hint: 'Start from examples/reef.yaml.',
      },
    );
  }
  const result = configSchema.safeParse(raw);
  if (result.success) return result.data;
  const details = result.error.issues.map((issue) => {
    const path =
      issue.code === 'unrecognized_keys' && issue.keys.length === 1
        ? [...issue.path, issue.keys[0]!]
        : issue.path;
    const offset = offsetOfPath(doc.contents, path);
    const where = offset === undefined ? undefined : lineCounter.linePos(offset).line;
    return `${where ? `line ${where}: ` : ''}${formatIssue(issue, raw)}`;
  });
  throw new ReefError(
    'reef_config_invalid',
    `${file} has ${details.length} problem${details.length === 1 ? '' : 's'}`,
    {
      details,
      hint: `Fix each field listed; the JSON Schema in schema/reef.schema.json gives completion in editors. Nothing was started.`,
    },
  );
}

const VARIABLE = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Replaces `${NAME}` and `${NAME:-default}` in string values with environment variables (`$$` is a
 * literal `$`), so one file serves several machines and header secrets stay in the environment.
 */
function interpolate(value: unknown, env: NodeJS.ProcessEnv, at: PropertyKey[], missing: string[]): unknown {
  if (typeof value === 'string') {
    return value.replace(VARIABLE, (match, name: string | undefined, fallback: string | undefined) => {
      if (match === '$$') return '$';
      const set = env[name!];
      if (set !== undefined && set !== '') return set;
      if (fallback !== undefined) return fallback;
      missing.push(`${formatPath(at) || '(top level)'}: \${${name}} is not set`);
      return match;
    });
  }
  if (Array.isArray(value)) return value.map((item, i) => interpolate(item, env, [...at, i], missing));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, interpolate(v, env, [...at, k], missing)]),
    );
  }
  return value;
}

/** `['checks','http',2,'url']` → `checks.http[2].url` */
export function formatPath(segments: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out ? `.${String(segment)}` : String(segment);
  }
  return out;
}

function formatIssue(issue: z.core.$ZodIssue, raw: unknown): string {
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeys(configSchema, issue.path).filter((k) => k !== '$schema');
    return issue.keys
      .map((key) => {
        const at = formatPath([...issue.path, key]);
        return `${at}: unknown key${known.length ? ` (known here: ${known.join(', ')})` : ''}`;
      })
      .join('; ');
  }
  const at = formatPath(issue.path);
  let message = issue.message;
  // zod 4 leaves `input` out of issues: look the value up to tell "missing" from "wrong type".
  if (issue.code === 'invalid_type') {
    const value = valueAt(raw, issue.path);
    message =
      value === undefined
        ? `required (${issue.expected})`
        : `expected ${issue.expected}, got ${describeValue(value)}`;
  }
  return `${at || '(top level)'}: ${message}`;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}

export function expandHome(p: string, env: NodeJS.ProcessEnv): string {
  if (p === '~' || p.startsWith('~/')) return path.join(env.HOME ?? '/root', p.slice(1));
  return p;
}

/** The JSON Schema of the config, for editor completion (`reef config schema`). */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return { ...schema, $id: 'https://reef.dev/schema/reef.schema.json', title: 'Reef configuration' };
}
