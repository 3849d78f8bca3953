import { z } from 'zod';

/**
 * Validation shared by the step executors' schemas. Step parameters are rendered from a finding's facts,
 * which come from the monitored systems: anything that could make a value act as code (shell
 * metacharacters, `..`, option-looking arguments, names Kubernetes would reject) is refused here with
 * the reason, before `describe` or `execute` sees it.
 */

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** Characters a shell would act on. Paths never need them; a fact holding one is an attack or a bug. */
const SHELL_META = /[`$;|&<>(){}'"\\!#~]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;
const GLOB = /[*?[\]]/;

const show = (value: unknown) => JSON.stringify(String(value));

/** A Kubernetes object name (pods, Secrets): a DNS-1123 subdomain. */
export const kubeName = z.string().refine((v) => v.length <= 253 && DNS1123_SUBDOMAIN.test(v), {
  error: (issue) =>
    `${show(issue.input)} is not a valid Kubernetes name (lowercase letters, digits, "-" and ".", starting and ending with a letter or digit, at most 253 characters)`,
});

/** A namespace name: a DNS-1123 label. */
export const kubeNamespace = z.string().refine((v) => v.length <= 63 && DNS1123_LABEL.test(v), {
  error: (issue) =>
    `${show(issue.input)} is not a valid Kubernetes namespace (lowercase letters, digits and "-", starting and ending with a letter or digit, at most 63 characters)`,
});

/** A name from reef.yaml (`hosts:`, `clusters:`), same rule as the config schema. */
export const configName = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/,
    'must be a name from reef.yaml (a letter or digit first, then letters, digits, ".", "_" and "-")',
  );

/**
 * Problems with an absolute path (or a glob of one, with `glob`): relative paths, `..` segments, control
 * characters, shell metacharacters. Undefined when it is fine.
 */
export function pathProblem(value: string, options: { glob?: boolean } = {}): string | undefined {
  if (!value.startsWith('/')) return 'is not an absolute path';
  if (CONTROL.test(value)) return 'contains a control character (newline, NUL…)';
  if (value.split('/').includes('..')) return 'contains a ".." segment (paths must stay inside the roots)';
  if (SHELL_META.test(value))
    return 'contains a shell metacharacter (one of ` $ ; | & < > ( ) { } \' " \\ ! # ~)';
  if (!options.glob && GLOB.test(value)) return 'contains a glob character (* ? [ ])';
  return undefined;
}

/** `/var//log/./app/` → `/var/log/app`: the lexical normal form (no `..`: pathProblem refuses those). */
export function normalisePath(value: string): string {
  return `/${value
    .split('/')
    .filter((s) => s !== '' && s !== '.')
    .join('/')}`;
}

/** An absolute path, returned normalised; refused with the reason when pathProblem finds one. */
export const absolutePath = pathSchema(false);
/** An absolute path that may use `*`, `?` and `[…]` in its segments. */
export const absoluteGlob = pathSchema(true);

function pathSchema(glob: boolean) {
  return z
    .string()
    .superRefine((value, ctx) => {
      const problem = pathProblem(value, { glob });
      if (problem) ctx.addIssue({ code: 'custom', message: `${show(value)} ${problem}` });
    })
    .transform(normalisePath);
}

/** A file-name glob (`*.tmp`, `backup-*.tar*`): one path segment, no shell metacharacters, not a match-all. */
export const nameGlob = z.string().superRefine((value, ctx) => {
  const fail = (why: string) => ctx.addIssue({ code: 'custom', message: `${show(value)} ${why}` });
  if (value === '' || value.includes('/')) return fail('must be a file-name pattern without "/"');
  if (CONTROL.test(value)) return fail('contains a control character');
  if (SHELL_META.test(value)) return fail('contains a shell metacharacter');
  if (/^[*?]+$/.test(value)) return fail('matches every file; name what to delete (e.g. *.tmp)');
});

/** Whether `child` is `root` or lies under it (both normalised). */
export function isInside(child: string, root: string): boolean {
  return root === '/' ? child.startsWith('/') : child === root || child.startsWith(`${root}/`);
}

/** Throws an Error naming the allowed roots unless `target` lies inside one of them. */
export function requireInsideRoots(target: string, roots: readonly string[], what: string): void {
  const normal = roots.map(normalisePath);
  if (normal.some((root) => isInside(target, root))) return;
  throw new Error(
    `${what} ${target} is outside the runbook's roots (${normal.join(', ') || 'none declared'}); declare its directory under roots: or use a path inside them`,
  );
}

/** One argv element: NUL would cut it short and a newline would end the line of an SSH command. */
export function argvProblem(value: string): string | undefined {
  if (value.includes('\0')) return 'contains a NUL byte';
  if (/[\r\n]/.test(value)) return 'contains a newline';
  return undefined;
}

/** Splits a glob path into the directory before its first glob segment and the segments from there on. */
export function splitGlob(pattern: string): { base: string; rest: string[] } {
  const segments = pattern.split('/').filter(Boolean);
  let first = segments.findIndex((s) => GLOB.test(s));
  if (first === -1) first = segments.length - 1;
  return { base: `/${segments.slice(0, first).join('/')}`, rest: segments.slice(first) };
}

/** Escapes `\`, `*`, `?` and `[` so find's `-path`/`-name` match the text literally. */
export function escapeGlob(text: string): string {
  return text.replace(/[\\*?[]/g, '\\$&');
}

/** An argv as an operator would type it: elements quoted only when a shell would split or expand them. */
export function displayArgv(argv: readonly string[]): string {
  return argv
    .map((a) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`))
    .join(' ');
}
