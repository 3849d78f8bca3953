import { accessSync, constants, existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveInsideReal, runTool, type ToolResult } from './ansible-terraform-local.js';

export const TERRAFORM_BINARIES = ['terraform', 'tofu'] as const;
export type TerraformBinary = (typeof TERRAFORM_BINARIES)[number];

export interface TerraformParams {
  /** Working directory, relative to the runbook folder. */
  dir: string;
  /** Which CLI; default: `terraform`, else `tofu`, whichever is first found on PATH. */
  binary?: TerraformBinary;
  /** Input variables, each passed as its own `-var` `name=value` argv pair. */
  vars?: Record<string, string>;
}

/** The counts of a plan, as the approval preview shows them. */
export interface PlanSummary {
  add: number;
  change: number;
  destroy: number;
  /** "Plan: 1 to add, 0 to change, 0 to destroy.", "No changes.", or "Changes to Outputs only." */
  text: string;
  /** Nothing to apply at all (not even outputs). */
  noChanges: boolean;
}

export interface TerraformRunOptions {
  /** The environment Terraform runs with (PATH decides which binary is found). */
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  planTimeoutMs?: number;
  applyTimeoutMs?: number;
}

export type TerraformPlan =
  | { status: 'failed'; binary: string; argv: string[]; result: ToolResult }
  | {
      status: 'planned';
      binary: string;
      argv: string[];
      result: ToolResult;
      summary: PlanSummary;
      /** The saved plan (in a private temp dir) that `apply` applies and `discard` removes. */
      planFile: string;
      /** Applies exactly the saved plan (never re-plans), then removes it. Once only. */
      apply(signal?: AbortSignal): Promise<{ argv: string[]; result: ToolResult }>;
      discard(): Promise<void>;
    };

const PLAN_TIMEOUT_MS = 10 * 60_000;
const APPLY_TIMEOUT_MS = 30 * 60_000;
/** Shown by `describe` before the plan file exists. */
export const PLAN_FILE_PLACEHOLDER = '<saved plan file>';

export function planArgs(params: TerraformParams, planFile: string): string[] {
  const vars = Object.entries(params.vars ?? {}).flatMap(([name, value]) => ['-var', `${name}=${value}`]);
  return ['plan', `-out=${planFile}`, '-input=false', '-no-color', ...vars];
}

export function applyArgs(planFile: string): string[] {
  return ['apply', '-input=false', '-no-color', planFile];
}

/**
 * The binary to run: the one asked for, else `terraform`, else `tofu`, searched on `env.PATH` (not
 * Reef's own PATH, so a test or a service unit can decide). Undefined when none is there.
 */
export function findTerraform(
  env: NodeJS.ProcessEnv,
  wanted?: TerraformBinary,
): { name: TerraformBinary; path: string } | undefined {
  const dirs = (env.PATH ?? '').split(path.delimiter).filter((d) => path.isAbsolute(d));
  for (const name of wanted ? [wanted] : TERRAFORM_BINARIES) {
    for (const dir of dirs) {
      const candidate = path.join(dir, name);
      try {
        accessSync(candidate, constants.X_OK);
        return { name, path: candidate };
      } catch {
        // Not in this directory.
      }
    }
  }
  return undefined;
}

/**
 * Runs `plan -out=<file>` in the runbook's working directory and keeps the saved plan for `apply`, so
 * what is applied is exactly what was previewed: Terraform refuses a saved plan whose state has moved on.
 */
export async function planTerraform(
  params: TerraformParams,
  runbookDir: string,
  options: TerraformRunOptions,
): Promise<TerraformPlan> {
  const cwd = await resolveInsideReal(runbookDir, params.dir, 'terraform dir');
  const found = findTerraform(options.env, params.binary);
  if (!found) {
    const names = params.binary ?? 'terraform or tofu';
    throw new Error(
      `terraform.apply: ${names} is not on the PATH of the machine Reef runs on (PATH=${options.env.PATH ?? ''}); install Terraform or OpenTofu there${params.binary ? '' : ', or set binary: in the step'}`,
    );
  }
  const env: NodeJS.ProcessEnv = {
    ...options.env,
    // No prompts, automation-friendly messages, and no call home to checkpoint.hashicorp.com.
    TF_IN_AUTOMATION: '1',
    TF_INPUT: '0',
    CHECKPOINT_DISABLE: '1',
  };
  // A working directory never initialised (a fresh checkout) cannot plan: initialise it once, the way
  // automation does (`init -input=false`). An initialised one is left alone, so provider and module
  // versions only change when a human runs init.
  if (!existsSync(path.join(cwd, '.terraform'))) {
    const initArgs = ['init', '-input=false', '-no-color'];
    const init = await runTool([found.path, ...initArgs], {
      cwd,
      env,
      timeoutMs: options.planTimeoutMs ?? PLAN_TIMEOUT_MS,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (init.code !== 0)
      return { status: 'failed', binary: found.name, argv: [found.name, ...initArgs], result: init };
  }
  // Private (0700) and outside the runbook folder: a plan file can hold sensitive values.
  const planDir = await mkdtemp(path.join(tmpdir(), 'reef-terraform-'));
  const planFile = path.join(planDir, 'reef.tfplan');
  const discard = () => rm(planDir, { recursive: true, force: true });
  const args = planArgs(params, planFile);
  let result: ToolResult;
  try {
    result = await runTool([found.path, ...args], {
      cwd,
      env,
      timeoutMs: options.planTimeoutMs ?? PLAN_TIMEOUT_MS,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    await discard();
    throw error;
  }
  const argv = [found.name, ...args];
  const summary = result.code === 0 ? parsePlanSummary(result.output) : undefined;
  if (!summary) {
    await discard();
    return { status: 'failed', binary: found.name, argv, result };
  }
  let applied = false;
  return {
    status: 'planned',
    binary: found.name,
    argv,
    result,
    summary,
    planFile,
    discard,
    async apply(signal) {
      if (applied) throw new Error('this saved plan was already applied');
      applied = true;
      const args = applyArgs(planFile);
      try {
        const result = await runTool([found.path, ...args], {
          cwd,
          env,
          timeoutMs: options.applyTimeoutMs ?? APPLY_TIMEOUT_MS,
          ...(signal ? { signal } : {}),
        });
        return { argv: [found.name, ...args], result };
      } finally {
        await discard();
      }
    },
  };
}

/** The plan's counts from Terraform's (or OpenTofu's) human output; undefined when it has none. */
export function parsePlanSummary(output: string): PlanSummary | undefined {
  const line = /^Plan: .*$/m.exec(output)?.[0];
  if (line) {
    const count = (what: string) => Number(new RegExp(`(\\d+) to ${what}`).exec(line)?.[1] ?? 0);
    return {
      add: count('add'),
      change: count('change'),
      destroy: count('destroy'),
      text: line.trim(),
      noChanges: false,
    };
  }
  if (/^Changes to Outputs:/m.test(output)) {
    return { add: 0, change: 0, destroy: 0, text: 'Changes to Outputs only.', noChanges: false };
  }
  if (/^No changes\./m.test(output)) {
    return { add: 0, change: 0, destroy: 0, text: 'No changes.', noChanges: true };
  }
  return undefined;
}
