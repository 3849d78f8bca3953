import { argvProblem } from './validate.js';

/** `{{name}}` in a command template (spaces inside the braces allowed). */
const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_-]*)\s*\}\}/g;

/** The placeholder names a template uses, in order of first use. */
export function placeholdersOf(template: readonly string[]): string[] {
  const names = new Set<string>();
  for (const element of template) for (const m of element.matchAll(PLACEHOLDER)) names.add(m[1]!);
  return [...names];
}

/**
 * The argv of a declared command with its placeholders filled: each value goes into exactly the element
 * that holds its placeholder (a value never becomes two arguments, however many spaces it holds), and
 * nothing is ever handed to a shell. Throws an Error saying what is wrong:
 * - the program (first element) must be fixed in the runbook, not a placeholder;
 * - every placeholder needs a value and every value a placeholder (a typo must not go unnoticed);
 * - values must be non-empty, without NUL or newlines;
 * - a value that starts an element must not start with `-`, or it would be read as an option; in
 *   `--size={{size}}` the option name comes first, so any value is data there.
 */
export function renderArgv(
  command: string,
  template: readonly string[],
  args: Readonly<Record<string, string>>,
): string[] {
  if (template.length === 0) throw new Error(`command "${command}" has an empty argv template`);
  if (new RegExp(PLACEHOLDER.source).test(template[0]!)) {
    throw new Error(
      `command "${command}": the program (${template[0]}) must be fixed in the runbook, not a placeholder`,
    );
  }
  const wanted = placeholdersOf(template);
  const missing = wanted.filter((name) => !Object.hasOwn(args, name));
  if (missing.length > 0) {
    throw new Error(
      `command "${command}" needs args: ${missing.join(', ')} (its placeholders: ${wanted.join(', ')})`,
    );
  }
  const extra = Object.keys(args).filter((name) => !wanted.includes(name));
  if (extra.length > 0) {
    throw new Error(
      `command "${command}" has no placeholder for ${extra.join(', ')} (its placeholders: ${wanted.join(', ') || 'none'})`,
    );
  }
  for (const [name, value] of Object.entries(args)) {
    if (value === '') throw new Error(`arg ${name} of command "${command}" is empty`);
    const problem = argvProblem(value);
    if (problem) throw new Error(`arg ${name} of command "${command}" ${problem}`);
  }
  return template.map((element) => {
    const first = new RegExp(`^${PLACEHOLDER.source}`).exec(element);
    const leading = first ? args[first[1]!]! : '';
    if (leading.startsWith('-')) {
      throw new Error(
        `arg ${first![1]} of command "${command}" starts with "-" (${JSON.stringify(leading)}) where it would be read as an option; use a value that does not, or a --name={{${first![1]}}} element`,
      );
    }
    // A function replacer: `$&` and friends in a value stay literal.
    return element.replace(PLACEHOLDER, (_, name: string) => args[name]!);
  });
}
