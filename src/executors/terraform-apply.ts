import path from 'node:path';
import { z } from 'zod';
import { resolveInside, type ToolResult } from './ansible-terraform-local.js';
import type { StepContext, StepExecutor } from './executor.js';
import {
  applyArgs,
  findTerraform,
  PLAN_FILE_PLACEHOLDER,
  planArgs,
  planTerraform,
  TERRAFORM_BINARIES,
  type TerraformParams,
  type TerraformPlan,
} from './terraform-plan.js';

const noNul = (s: string) => !s.includes('\0');

export const terraformParamsSchema: z.ZodType<TerraformParams> = z.strictObject({
  dir: z.string().min(1).refine(noNul, 'must not contain a NUL byte'),
  binary: z.enum(TERRAFORM_BINARIES).optional(),
  vars: z
    .record(z.string(), z.string().refine(noNul, 'must not contain a NUL byte'))
    // Checked here rather than as the record's key schema, which would only say "Invalid key in record".
    .superRefine((vars, ctx) => {
      for (const name of Object.keys(vars)) {
        if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(name)) continue;
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: `"${name}" is not a Terraform variable name (letters, digits, "_" and "-")`,
        });
      }
    })
    .optional(),
});

export interface TerraformApplyExecutor extends StepExecutor<TerraformParams> {
  /**
   * Only plans: for the approval preview. Keep the returned plan and call its `apply` once approved (the
   * exact plan that was shown), or `discard` it.
   */
  plan(params: TerraformParams, context: Pick<StepContext, 'runbook' | 'signal'>): Promise<TerraformPlan>;
}

/**
 * `terraform.apply: { dir, binary?, vars? }`: `plan -out` into a private file, the plan's summary in the
 * result (and the step's log line), then `apply` of exactly that saved file; never `apply` without a plan,
 * so what runs is what was planned. A plan with no changes is not applied.
 *
 * `env()` is the environment Terraform runs with and whose PATH picks the binary (default: Reef's own).
 */
export function createTerraformApplyExecutor(
  options: { env?: () => NodeJS.ProcessEnv } = {},
): TerraformApplyExecutor {
  const env = options.env ?? (() => process.env);
  const plan: TerraformApplyExecutor['plan'] = (params, context) =>
    planTerraform(params, context.runbook.dir, { env: env(), signal: context.signal });
  return {
    type: 'terraform.apply',
    mutates: true,
    schema: terraformParamsSchema,
    check(params, runbook) {
      resolveInside(runbook.dir, params.dir, 'terraform dir');
    },
    describe(params, runbook) {
      const binary = params.binary ?? findTerraform(env())?.name ?? 'terraform';
      const cwd = path.resolve(runbook.dir, params.dir);
      const plan = [binary, ...planArgs(params, PLAN_FILE_PLACEHOLDER)].join(' ');
      const apply = [binary, ...applyArgs(PLAN_FILE_PLACEHOLDER)].join(' ');
      return `in ${cwd}: ${plan}; then, if it plans changes: ${apply} (exactly the saved plan)`;
    },
    plan,
    async execute(params, context) {
      const planned = await plan(params, context);
      const planOutput = transcript(planned.argv, planned.result);
      if (planned.status === 'failed') {
        return {
          ok: false,
          summary: `${planned.binary} ${planned.argv[1] ?? 'plan'} failed in ${params.dir} (${exitText(planned.result)}): ${lastLine(planned.result.output)}; nothing applied`,
          output: planOutput,
          data: { binary: planned.binary, phase: 'plan', applied: false },
        };
      }
      const summary = planned.summary;
      context.log(`${planned.binary} plan in ${params.dir}: ${summary.text}`);
      const data = { binary: planned.binary, plan: summary, applied: false };
      if (summary.noChanges) {
        await planned.discard();
        return { ok: true, summary: `${params.dir}: no changes; nothing applied`, output: planOutput, data };
      }
      const applied = await planned.apply(context.signal);
      const output = `${planOutput}\n${transcript(applied.argv, applied.result)}`;
      if (applied.result.code !== 0) {
        return {
          ok: false,
          summary: `${planned.binary} apply of the saved plan (${summary.text}) failed in ${params.dir} (${exitText(applied.result)}): ${lastLine(applied.result.output)}`,
          output,
          data: { ...data, phase: 'apply' },
        };
      }
      const complete = /^Apply complete!.*$/m.exec(applied.result.output)?.[0] ?? 'applied';
      return {
        ok: true,
        summary: `${params.dir}: ${complete} (saved plan: ${summary.text})`,
        output,
        data: { ...data, applied: true, applySummary: complete },
      };
    },
  };
}

export const terraformApplyExecutor = createTerraformApplyExecutor();

function transcript(argv: readonly string[], result: ToolResult): string {
  return `$ ${argv.join(' ')}\n${result.output.trimEnd()}\n(${exitText(result)})`;
}

function exitText(result: ToolResult): string {
  if (result.killed === 'timeout') return 'killed: timed out';
  if (result.killed === 'aborted') return 'killed: step aborted';
  return `exit ${result.code}`;
}

/** The error line operators need: Terraform prints "Error: …" and then context. */
function lastLine(output: string): string {
  const error = /^(?:│ )?Error: .*$/m.exec(output)?.[0];
  if (error) return error.replace(/^│ /, '');
  return (
    output
      .trim()
      .split('\n')
      .filter((l) => l.trim())
      .at(-1) ?? 'no output'
  );
}
