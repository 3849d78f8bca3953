import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderArgv } from '../../src/executors/argv-template.js';
import { sshExecExecutor as step } from '../../src/executors/ssh-exec.js';
import { hostEntry, sshdUnavailable, startSshd, type TestSshd } from '../fixtures/sshd.js';
import { bounds, refusal, runStep, stepContext } from '../helpers/step-context.js';

const commands = {
  // printf '%s\0' prints each argument it got, NUL-terminated: what arrived, element by element.
  echo: ['printf', '%s\\0', '{{a}}', 'x-{{b}}', '--opt={{c}}'],
  vacuum: ['journalctl', '--vacuum-size={{size}}'],
  fail: ['sh', '-c', 'echo "no space left" >&2; exit 3'],
  nap: ['sleep', '{{seconds}}'],
};
const runbook = bounds({ commands });

describe('argv templates (pure)', () => {
  it('fills each placeholder inside its own element, literally', () => {
    expect(renderArgv('echo', commands.echo, { a: 'two words', b: '$1 $& `x`', c: '-rf' })).toEqual([
      'printf',
      '%s\\0',
      'two words',
      'x-$1 $& `x`',
      '--opt=-rf',
    ]);
    expect(renderArgv('t', ['cmd', '{{ a }}{{b}}'], { a: 'x', b: '{{a}}' })).toEqual(['cmd', 'x{{a}}']);
  });

  it('refuses what could turn a value into an option, a second line or a different program', () => {
    const err = (template: string[], args: Record<string, string>) => () => renderArgv('c', template, args);
    expect(err(['rm', '{{f}}'], { f: '-rf' })).toThrow(
      'arg f of command "c" starts with "-" ("-rf") where it would be read as an option; use a value that does not, or a --name={{f}} element',
    );
    expect(err(['ls', '{{d}}/x'], { d: '--help' })).toThrow(/starts with "-"/);
    expect(err(['echo', '{{v}}'], { v: 'a\nb' })).toThrow('arg v of command "c" contains a newline');
    expect(err(['echo', '{{v}}'], { v: 'a\0b' })).toThrow(/NUL/);
    expect(err(['echo', '{{v}}'], { v: '' })).toThrow(/is empty/);
    expect(err(['{{prog}}', 'x'], { prog: 'rm' })).toThrow(
      /the program \(\{\{prog\}\}\) must be fixed in the runbook/,
    );
    expect(err(['echo', '{{v}}'], {})).toThrow('command "c" needs args: v (its placeholders: v)');
    expect(err(['echo', '{{v}}'], { v: 'x', w: 'y' })).toThrow(
      'command "c" has no placeholder for w (its placeholders: v)',
    );
    expect(err(['echo', '{{constructor}}'], {})).toThrow(/needs args: constructor/);
  });
});

describe('ssh.exec validation and description', () => {
  it('describes the exact argv, shell-quoted for display', () => {
    const params = step.schema.parse({
      host: 'web',
      command: 'echo',
      args: { a: "it's $(id)", b: 'y', c: '-z' },
    });
    expect(step.describe(params, runbook)).toBe(`on web: printf '%s\\0' 'it'\\''s $(id)' x-y --opt=-z`);
    expect(
      step.describe(step.schema.parse({ host: 'web', command: 'vacuum', args: { size: '500M' } }), runbook),
    ).toBe('on web: journalctl --vacuum-size=500M');
  });

  it('refuses a command the runbook does not declare, naming the ones it does', () => {
    expect(refusal(step, { host: 'web', command: 'reboot' }, runbook)).toBe(
      'command "reboot" is not declared by runbook test-runbook; it declares: echo (a, b, c), vacuum (size), fail (no args), nap (seconds)',
    );
    expect(refusal(step, { host: 'web', command: 'toString' }, runbook)).toMatch(/not declared/);
    expect(refusal(step, { host: 'web', command: 'x' }, bounds())).toMatch(/it declares no commands/);
    expect(refusal(step, { host: 'web', command: 'nap', args: { seconds: '-1' } }, runbook)).toMatch(
      /starts with "-"/,
    );
    expect(
      refusal(step, { host: 'web', command: 'nap', args: { seconds: '1', 'a b': 'x' } }, runbook),
    ).toMatch(/args\.a b: must be a placeholder name/);
    expect(
      refusal(step, { host: 'web', command: 'nap', args: { seconds: '1' }, timeout: '2h' }, runbook),
    ).toMatch(/^timeout: must be a duration up to 30m/);
  });
});

const unavailable = sshdUnavailable();

describe.skipIf(unavailable)('ssh.exec against a real sshd and locally', () => {
  let sshd: TestSshd;
  let dir: string;
  beforeAll(async () => {
    sshd = await startSshd();
    dir = await mkdtemp(path.join(tmpdir(), 'reef-ssh-exec-'));
  });
  afterAll(async () => {
    await sshd?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  const context = () =>
    stepContext({
      config: { hosts: { web: hostEntry(sshd), self: { local: true } } },
      runbook: { commands },
    });

  it('args with $(…), ;, quotes and spaces arrive as data, one element each', async () => {
    const marker = path.join(dir, 'pwned');
    const args = {
      a: `$(touch ${marker}-subst); touch ${marker}-semi`,
      b: `'"; touch ${marker}-quote; echo "'\`touch ${marker}-tick\``,
      c: `| touch ${marker}-pipe && rm -rf ${dir}`,
    };
    const ctx = context();
    try {
      for (const host of ['web', 'self']) {
        const result = await runStep(step, { host, command: 'echo', args }, ctx);
        expect(result.ok, host).toBe(true);
        expect(result.summary).toBe(`echo on ${host} succeeded`);
        const printed = result.output!.replace(/^stdout:\n/, '').split('\0');
        expect(printed.slice(0, 3), host).toEqual([args.a, `x-${args.b}`, `--opt=${args.c}`]);
      }
    } finally {
      await ctx.close();
    }
    expect((await readdir(dir)).filter((f) => f.startsWith('pwned'))).toEqual([]);
    expect(existsSync(dir)).toBe(true);
  });

  it('a failing command is a failed step with its exit code and stderr; a hung one is killed at the timeout', async () => {
    const ctx = context();
    try {
      const failed = await runStep(step, { host: 'web', command: 'fail' }, ctx);
      expect(failed).toMatchObject({
        ok: false,
        summary: 'fail on web exited with 3',
        output: 'stderr:\nno space left',
        data: { exitCode: 3 },
      });
      const slow = await runStep(
        step,
        { host: 'web', command: 'nap', args: { seconds: '5' }, timeout: '300ms' },
        ctx,
      );
      expect(slow).toMatchObject({
        ok: false,
        summary: 'nap on web was killed after 300ms',
        data: { exitCode: null },
      });
    } finally {
      await ctx.close();
    }
  });

  it('execute validates again: an undeclared command never reaches the host', async () => {
    const ctx = context();
    const before = sshd.logins();
    try {
      await expect(
        step.execute({ host: 'web', command: 'reboot', args: {}, timeout: '5m' }, ctx),
      ).rejects.toThrow(/not declared/);
    } finally {
      await ctx.close();
    }
    expect(sshd.logins()).toBe(before);
  });
});
