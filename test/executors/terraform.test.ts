import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { StepContext } from '../../src/executors/executor.js';
import { createTerraformApplyExecutor } from '../../src/executors/terraform-apply.js';
import { findTerraform, parsePlanSummary } from '../../src/executors/terraform-plan.js';
import { bounds, refusal, runStep, stepContext } from '../helpers/step-context.js';

const STAND_IN = fileURLToPath(new URL('../fixtures/terraform-stand-in', import.meta.url));

interface Call {
  program: string;
  cwd: string;
  env: string;
  args: string[];
}

/** The stand-in's log: one block per call (see test/fixtures/terraform-stand-in/terraform). */
async function calls(log: string): Promise<Call[]> {
  const text = await readFile(log, 'utf8').catch(() => '');
  return text
    .split(/^end$/m)
    .filter((block) => block.trim())
    .map((block) => {
      const lines = block.trim().split('\n');
      const field = (prefix: string) => lines.find((l) => l.startsWith(prefix))?.slice(prefix.length) ?? '';
      return {
        program: field('call '),
        cwd: field('cwd '),
        env: field('env '),
        args: lines.filter((l) => l.startsWith('arg ')).map((l) => l.slice(4)),
      };
    });
}

describe('terraform.apply with a stand-in CLI that records its calls', () => {
  let runbookDir: string;
  let workDir: string;
  let log: string;
  let context: ReturnType<typeof stepContext>;
  const executor = (extra: NodeJS.ProcessEnv = {}) =>
    createTerraformApplyExecutor({
      env: () => ({
        ...process.env,
        PATH: `${STAND_IN}${path.delimiter}${process.env.PATH ?? ''}`,
        REEF_TF_STANDIN_LOG: log,
        ...extra,
      }),
    });

  beforeAll(async () => {
    runbookDir = await mkdtemp(path.join(tmpdir(), 'reef-test-terraform-'));
    workDir = path.join(runbookDir, 'infra', 'dns');
    // Initialised, as a working directory usually is; the init test uses a fresh one.
    await mkdir(path.join(workDir, '.terraform'), { recursive: true });
    log = path.join(runbookDir, 'calls.log');
    context = stepContext({ runbook: { dir: runbookDir } });
  });

  afterAll(async () => {
    await context?.close();
    if (runbookDir) await rm(runbookDir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    await rm(log, { force: true });
    context.lines.length = 0;
  });

  it('plans into a saved file, then applies exactly that file, in the working directory', async () => {
    const result = await runStep(
      executor(),
      { dir: 'infra/dns', vars: { greeting: 'hello world', replicas: '3' } },
      context,
    );
    expect(result.ok, result.output).toBe(true);
    const [plan, apply, ...rest] = await calls(log);
    expect(rest).toEqual([]);
    expect(plan?.program).toBe('terraform');
    expect(plan?.cwd).toBe(workDir);
    const planFile = plan?.args[1]?.replace(/^-out=/, '') ?? '';
    expect(plan?.args).toEqual([
      'plan',
      `-out=${planFile}`,
      '-input=false',
      '-no-color',
      '-var',
      'greeting=hello world',
      '-var',
      'replicas=3',
    ]);
    // The plan lives outside the runbook folder and is gone after the run.
    expect(path.isAbsolute(planFile) && !planFile.startsWith(runbookDir)).toBe(true);
    expect(existsSync(planFile)).toBe(false);
    expect(apply).toEqual({ ...plan, args: ['apply', '-input=false', '-no-color', planFile] });
    expect(plan?.env).toBe('TF_IN_AUTOMATION=1 TF_INPUT=0 CHECKPOINT_DISABLE=1');
    expect(result.data).toMatchObject({
      binary: 'terraform',
      applied: true,
      plan: { add: 1, change: 0, destroy: 0, text: 'Plan: 1 to add, 0 to change, 0 to destroy.' },
      applySummary: 'Apply complete! Resources: 1 added, 0 changed, 0 destroyed.',
    });
    expect(result.summary).toContain('Apply complete!');
    expect(context.lines).toContain(
      'terraform plan in infra/dns: Plan: 1 to add, 0 to change, 0 to destroy.',
    );
    expect(result.output).toContain(`$ terraform apply -input=false -no-color ${planFile}`);
  });

  it('initialises a working directory that was never initialised, once, before planning', async () => {
    const fresh = path.join(runbookDir, 'infra', 'fresh');
    await mkdir(fresh, { recursive: true });
    const first = await runStep(executor(), { dir: 'infra/fresh' }, context);
    expect(first.ok, first.output).toBe(true);
    expect((await calls(log)).map((c) => c.args[0])).toEqual(['init', 'plan', 'apply']);
    expect((await calls(log))[0]).toMatchObject({ cwd: fresh, args: ['init', '-input=false', '-no-color'] });
    await rm(log, { force: true });
    const second = await runStep(executor(), { dir: 'infra/fresh' }, context);
    expect(second.ok, second.output).toBe(true);
    expect((await calls(log)).map((c) => c.args[0])).toEqual(['plan', 'apply']);
  });

  it('a failed init stops before any plan, and says it was init', async () => {
    await mkdir(path.join(runbookDir, 'infra', 'offline'), { recursive: true });
    const result = await runStep(
      executor({ REEF_TF_STANDIN_INIT: 'fail' }),
      { dir: 'infra/offline' },
      context,
    );
    expect(result.ok).toBe(false);
    expect(result.summary).toMatch(/terraform init failed in infra\/offline \(exit 1\).*nothing applied/);
    expect((await calls(log)).map((c) => c.args[0])).toEqual(['init']);
  });

  it('stops before apply when the plan fails, with Terraform’s error in the summary', async () => {
    const result = await runStep(executor({ REEF_TF_STANDIN_PLAN: 'fail' }), { dir: 'infra/dns' }, context);
    expect(result.ok).toBe(false);
    expect(result.summary).toContain('terraform plan failed in infra/dns (exit 1)');
    expect(result.summary).toContain('Error: Reference to undeclared input variable');
    expect(result.summary).toContain('nothing applied');
    expect((await calls(log)).map((c) => c.args[0])).toEqual(['plan']);
  });

  it('applies nothing when the plan has no changes', async () => {
    const result = await runStep(executor({ REEF_TF_STANDIN_PLAN: 'none' }), { dir: 'infra/dns' }, context);
    expect(result).toMatchObject({ ok: true, data: { applied: false, plan: { noChanges: true } } });
    expect((await calls(log)).map((c) => c.args[0])).toEqual(['plan']);
  });

  it('reports a failed apply as a failed step', async () => {
    const result = await runStep(executor({ REEF_TF_STANDIN_APPLY: 'fail' }), { dir: 'infra/dns' }, context);
    expect(result.ok).toBe(false);
    expect(result.summary).toMatch(
      /apply of the saved plan \(Plan: 1 to add.*\) failed.*exit 1.*permission denied/,
    );
    expect((await calls(log)).map((c) => c.args[0])).toEqual(['plan', 'apply']);
  });

  it('plan() only plans, for the approval preview; its apply() later runs that same saved plan, once', async () => {
    const planned = await executor().plan({ dir: 'infra/dns' }, context);
    expect(planned.status).toBe('planned');
    if (planned.status !== 'planned') return;
    expect(planned.summary.text).toBe('Plan: 1 to add, 0 to change, 0 to destroy.');
    expect((await calls(log)).map((c) => c.args[0])).toEqual(['plan']);
    expect(existsSync(planned.planFile)).toBe(true);
    const applied = await planned.apply();
    expect(applied.result.code).toBe(0);
    const [, apply] = await calls(log);
    expect(apply?.args.at(-1)).toBe(planned.planFile);
    await expect(planned.apply()).rejects.toThrow(/already applied/);
  });

  it('runs tofu when the step asks for it', async () => {
    const result = await runStep(executor(), { dir: 'infra/dns', binary: 'tofu' }, context);
    expect(result.ok).toBe(true);
    expect((await calls(log)).map((c) => c.program)).toEqual(['tofu', 'tofu']);
  });

  it('fails clearly when neither terraform nor tofu is on PATH', async () => {
    const empty = path.join(runbookDir, 'empty-bin');
    await mkdir(empty, { recursive: true });
    const none = createTerraformApplyExecutor({ env: () => ({ PATH: empty }) });
    await expect(runStep(none, { dir: 'infra/dns' }, context)).rejects.toThrow(
      /terraform or tofu is not on the PATH .*install Terraform or OpenTofu/,
    );
    await expect(runStep(none, { dir: 'infra/dns', binary: 'tofu' }, context)).rejects.toThrow(
      /tofu is not on the PATH/,
    );
  });

  it('keeps the working directory inside the runbook folder', async () => {
    const runbook = bounds({ dir: runbookDir });
    expect(refusal(executor(), { dir: '../elsewhere' }, runbook)).toMatch(/leaves the runbook folder/);
    expect(refusal(executor(), { dir: 'infra/../../x' }, runbook)).toMatch(/leaves the runbook folder/);
    expect(refusal(executor(), { dir: '/etc' }, runbook)).toMatch(/not absolute/);
    expect(refusal(executor(), { dir: 'infra', vars: { 'bad name': 'x' } }, runbook)).toMatch(
      /variable name/,
    );
    expect(refusal(executor(), { dir: 'infra', binary: 'pulumi' }, runbook)).toBeDefined();
    // A symlink inside the folder that points out of it is caught when the step runs.
    await symlink(tmpdir(), path.join(runbookDir, 'escape'));
    await expect(runStep(executor(), { dir: 'escape' }, context)).rejects.toThrow(/symlink leading out/);
    expect(await calls(log)).toEqual([]);
  });

  it('describes the exact commands', () => {
    expect(
      executor().describe({ dir: 'infra/dns', vars: { greeting: 'hi' } }, bounds({ dir: runbookDir })),
    ).toBe(
      `in ${workDir}: terraform plan -out=<saved plan file> -input=false -no-color -var greeting=hi; ` +
        'then, if it plans changes: terraform apply -input=false -no-color <saved plan file> (exactly the saved plan)',
    );
    expect(executor().mutates).toBe(true);
  });

  it('reads plan summaries from Terraform and OpenTofu output', () => {
    expect(parsePlanSummary('Plan: 0 to import, 2 to add, 1 to change, 3 to destroy.')).toMatchObject({
      add: 2,
      change: 1,
      destroy: 3,
    });
    expect(parsePlanSummary('Changes to Outputs:\n  + x = 1')).toMatchObject({ noChanges: false, add: 0 });
    expect(parsePlanSummary('No changes. Your infrastructure matches the configuration.')).toMatchObject({
      noChanges: true,
    });
    expect(parsePlanSummary('garbage')).toBeUndefined();
  });
});

// The real CLI, where one is installed (never the stand-in: it is only on the PATH the tests above build).
const real = findTerraform(process.env);
if (!real) console.warn('skipping the real Terraform test: neither terraform nor tofu is on PATH');

describe.skipIf(!real)(`terraform.apply with the real ${real?.name ?? 'terraform'} CLI`, () => {
  let runbookDir: string;
  let context: StepContext & { close(): Promise<void> };
  const executor = createTerraformApplyExecutor();

  beforeAll(async () => {
    runbookDir = await mkdtemp(path.join(tmpdir(), 'reef-test-terraform-real-'));
    await mkdir(path.join(runbookDir, 'stack'));
    // Only the built-in `terraform` provider: no `init`, no download, no network.
    await writeFile(
      path.join(runbookDir, 'stack', 'main.tf'),
      [
        'variable "greeting" {',
        '  type = string',
        '}',
        'resource "terraform_data" "marker" {',
        '  input = var.greeting',
        '}',
        'output "greeting" {',
        '  value = terraform_data.marker.output',
        '}',
        '',
      ].join('\n'),
    );
    context = stepContext({ runbook: { dir: runbookDir } });
  });

  afterAll(async () => {
    await context?.close();
    if (runbookDir) await rm(runbookDir, { recursive: true, force: true });
  });

  it('plans, applies the saved plan, then finds nothing to change', async () => {
    const first = await runStep(executor, { dir: 'stack', vars: { greeting: 'hello' } }, context);
    expect(first.ok, first.output).toBe(true);
    expect(first.data).toMatchObject({ applied: true, plan: { add: 1, change: 0, destroy: 0 } });
    const state = JSON.parse(await readFile(path.join(runbookDir, 'stack', 'terraform.tfstate'), 'utf8'));
    expect(state.outputs.greeting.value).toBe('hello');
    const again = await runStep(executor, { dir: 'stack', vars: { greeting: 'hello' } }, context);
    expect(again).toMatchObject({ ok: true, data: { applied: false, plan: { noChanges: true } } });
  });

  it('refuses to apply a saved plan once the state has moved on (it never re-plans)', async () => {
    const stale = await executor.plan({ dir: 'stack', vars: { greeting: 'first' } }, context);
    expect(stale.status).toBe('planned');
    if (stale.status !== 'planned') return;
    expect(stale.summary).toMatchObject({ add: 0, change: 1, destroy: 0 });
    const other = await runStep(executor, { dir: 'stack', vars: { greeting: 'second' } }, context);
    expect(other.ok, other.output).toBe(true);
    const applied = await stale.apply();
    expect(applied.result.code).not.toBe(0);
    expect(applied.result.output).toMatch(/Saved plan is stale/);
    const state = JSON.parse(await readFile(path.join(runbookDir, 'stack', 'terraform.tfstate'), 'utf8'));
    expect(state.outputs.greeting.value).toBe('second');
  });
});
