import { z } from 'zod';
import { formatDuration, parseDuration } from '../util/duration.js';
import { placeholdersOf, renderArgv } from './argv-template.js';
import type { RunbookBounds, StepExecutor } from './executor.js';
import { excerpt } from './host-files.js';
import { configName, displayArgv } from './validate.js';

const MAX_TIMEOUT_MS = 30 * 60_000;
const OUTPUT_BYTES = 1024 * 1024;

const schema = z.strictObject({
  host: configName,
  /** The name of a command the runbook declares under `commands:`. */
  command: z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
      'must be the name of a command the runbook declares under commands:',
    ),
  /** Values for the template's `{{name}}` placeholders. */
  args: z
    .record(z.string(), z.string())
    .superRefine((args, ctx) => {
      for (const key of Object.keys(args)) {
        if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(key))
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: 'must be a placeholder name (letters, digits, "_", "-")',
          });
      }
    })
    .default({}),
  timeout: z
    .string()
    .refine((t) => {
      const ms = parseDuration(t);
      return ms !== undefined && ms > 0 && ms <= MAX_TIMEOUT_MS;
    }, 'must be a duration up to 30m, e.g. 30s or 5m')
    .default('5m'),
});

export type SshExecParams = z.output<typeof schema>;

/**
 * `ssh.exec`: runs a command the runbook declares, as an argv template (`journal-vacuum: [journalctl,
 * "--vacuum-size={{size}}"]`), on a configured host (over SSH, or locally for a `local: true` host). Each
 * placeholder takes one validated value inside its own element, and the argv reaches the host
 * single-quoted element by element: a value holding `$(…)`, `;` or quotes arrives as data.
 */
export const sshExecExecutor: StepExecutor<SshExecParams> = {
  type: 'ssh.exec',
  mutates: true,
  schema,
  check(params, runbook) {
    argvOf(params, runbook);
  },
  describe(params, runbook) {
    return `on ${params.host}: ${displayArgv(argvOf(params, runbook))}`;
  },
  async execute(params, context) {
    const argv = argvOf(params, context.runbook);
    const timeoutMs = parseDuration(params.timeout)!;
    const result = await context.hosts.exec(params.host, argv, { timeoutMs, maxBytes: OUTPUT_BYTES });
    const how =
      result.code === null
        ? `was killed after ${formatDuration(timeoutMs)}`
        : result.code === 0
          ? 'succeeded'
          : `exited with ${result.code}`;
    return {
      ok: result.code === 0,
      summary: `${params.command} on ${params.host} ${how}`,
      output: [
        result.stdout.trim() ? `stdout:\n${tail(result.stdout)}` : '',
        result.stderr.trim() ? `stderr:\n${excerpt(result.stderr, 4000)}` : '',
      ]
        .filter(Boolean)
        .join('\n'),
      data: { exitCode: result.code, argv },
    };
  },
};

function argvOf(params: SshExecParams, runbook: RunbookBounds): string[] {
  const template = Object.hasOwn(runbook.commands, params.command)
    ? runbook.commands[params.command]
    : undefined;
  if (!template) {
    const declared = Object.keys(runbook.commands);
    throw new Error(
      `command "${params.command}" is not declared by runbook ${runbook.id}; ${
        declared.length
          ? `it declares: ${declared.map((c) => `${c} (${placeholdersOf(runbook.commands[c]!).join(', ') || 'no args'})`).join(', ')}`
          : 'it declares no commands (add them under commands:)'
      }`,
    );
  }
  return renderArgv(params.command, template, params.args);
}

/** The end of a long output is where commands say how it went. */
function tail(text: string, max = 4000): string {
  const trimmed = text.trimEnd();
  return trimmed.length > max ? `…${trimmed.slice(-max)}` : trimmed;
}
