import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BAD_RUNBOOKS,
  GOOD_RUNBOOKS,
  removeRunbookDirs,
  runbookDir,
} from '../fixtures/runbooks/temp-runbooks.js';
import { runCli } from '../helpers/cli.js';

afterAll(removeRunbookDirs);

// No Redis is needed: point it nowhere so a command that tried would fail loudly.
const env = { REDIS_URL: 'redis://127.0.0.1:1' };
const cwd = path.resolve(GOOD_RUNBOOKS, '..');

describe('reef runbooks lint', () => {
  it('a clean folder: exit 0 and a summary', async () => {
    const r = await runCli(['runbooks', 'lint', '--dir', 'good'], { env, cwd });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      '✓ good: 6 runbook files, 6 runbooks loaded, no problems (crashloop-settle, critical-pods, disk-watch, pods-ignored, pods-settle, web-pods-settle)\n',
    );
  });

  it('a folder with errors: exit 1, every error as file:line: field: message', async () => {
    const r = await runCli(['runbooks', 'lint', '--dir', 'bad'], { env, cwd });
    expect(r.code).toBe(1);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toEqual([
      'bad/bad-template.md:2: verify: required in mode approve: how long after the steps the check runs again to confirm the fix (e.g. verify: { after: 2m })',
      'bad/bad-template.md:7: steps[0].wait.for: unknown template field {{fact.duration}} (known: facts.<name>, target, check, condition, incident.id); did you mean {{facts.duration}}?',
      'bad/no-front-matter.md:1: no front matter: a runbook starts with a line "---", then its YAML fields (id, title, match, steps…), then "---", then the prose',
      expect.stringMatching(
        /^bad\/unknown-step\.md:8: steps\[1\]\.kubernetes\.restartDeployment: unknown step type "kubernetes\.restartDeployment": the closed action list is .*wait/,
      ),
      '✗ bad: 4 errors, 0 warnings in 4 runbook files; 3 did not load. A runbook with errors never runs: fix each line above.',
    ]);
  });

  it('--config: runbooks.dir is relative to the config file; a warning alone passes', async () => {
    const dir = runbookDir({});
    mkdirSync(path.join(dir, 'books'));
    writeFileSync(
      path.join(dir, 'books', 'named-differently.md'),
      '---\nid: other-name\ntitle: T\nmatch: { check: http, condition: timeout }\nmode: suggest\nrisk: low\nsteps:\n  - wait: { for: 1s }\n---\n',
    );
    const config = path.join(dir, 'reef.yaml');
    writeFileSync(config, 'runbooks:\n  dir: books\n');
    const r = await runCli(['runbooks', 'lint', '--config', config], { env, cwd: GOOD_RUNBOOKS });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      `${path.join(dir, 'books', 'named-differently.md')}:2: warning: id: "other-name" differs from the file name (named-differently.md)`,
    );
    expect(r.stdout).toContain('1 runbook loaded, 1 warning (other-name)');
  });

  it('a config naming a folder that does not exist: an error with a hint, exit 1', async () => {
    const dir = runbookDir({});
    const config = path.join(dir, 'reef.yaml');
    writeFileSync(config, 'runbooks: { dir: nowhere }\n');
    const r = await runCli(['runbooks', 'lint', '-c', config], { env, cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error: Cannot read the runbooks folder ${path.join(dir, 'nowhere')}`);
    expect(r.stderr).toContain('hint: Set runbooks.dir in reef.yaml');
  });
});

describe('reef runbooks list', () => {
  it('a table of what loads: id, mode, risk, match, steps, file', async () => {
    const r = await runCli(['runbooks', 'list', '--dir', 'good'], { env, cwd });
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+MODE\s+RISK\s+MATCH\s+STEPS\s+FILE$/);
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^web-pods-settle\s+approve\s+high\s+pods CrashLoopBackOff\|OOMKilled target=default\/web-\*\s+wait\s+good\/web-pods-settle\.md$/,
      ),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^critical-pods\s+auto\s+low\s+pods CrashLoopBackOff\|OOMKilled\|ImagePullBackOff severity≥critical\s+wait/,
      ),
    );
    expect(lines).toHaveLength(7);
  });

  it('--json: one document of the documented shape; broken files listed as errors, exit 1', async () => {
    const good = await runCli(['runbooks', 'list', '--json', '--dir', GOOD_RUNBOOKS], { env });
    expect(good.code).toBe(0);
    const doc = JSON.parse(good.stdout);
    expect(Object.keys(doc)).toEqual(['dir', 'runbooks', 'errors', 'warnings']);
    expect(doc.dir).toBe(GOOD_RUNBOOKS);
    expect(doc.errors).toEqual([]);
    expect(doc.runbooks).toHaveLength(6);
    expect(doc.runbooks.find((r: { id: string }) => r.id === 'pods-settle')).toEqual({
      id: 'pods-settle',
      title: 'Let a crash-looping pod settle',
      mode: 'approve',
      risk: 'low',
      approvalsRequired: 1,
      match: { check: 'pods', condition: ['CrashLoopBackOff', 'OOMKilled'] },
      steps: ['wait'],
      file: path.join(GOOD_RUNBOOKS, 'pods-settle.md'),
    });

    const bad = await runCli(['runbooks', 'list', '--json', '--dir', BAD_RUNBOOKS], { env });
    expect(bad.code).toBe(1);
    const broken = JSON.parse(bad.stdout);
    expect(broken.runbooks.map((r: { id: string }) => r.id)).toEqual(['good-one']);
    expect(broken.errors).toHaveLength(4);
    expect(broken.errors[0]).toEqual({
      severity: 'error',
      file: path.join(BAD_RUNBOOKS, 'bad-template.md'),
      line: 2,
      path: 'verify',
      message: expect.stringMatching(/^required in mode approve/),
    });
  });

  it('without --json, broken files are reported on stderr with the way to see why', async () => {
    const r = await runCli(['runbooks', 'list', '--dir', 'bad'], { env, cwd });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /^good-one\s+suggest\s+low\s+http timeout\|unreachable\s+wait\s+bad\/good-one\.md$/m,
    );
    expect(r.stderr).toBe('3 runbook files did not load (4 errors): run `reef runbooks lint` to see them.\n');
  });
});
