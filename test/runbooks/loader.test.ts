import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isReefError } from '../../src/errors.js';
import { EXECUTORS } from '../../src/executors/registry.js';
import { loadCatalog } from '../../src/runbooks/catalog.js';
import { formatProblem } from '../../src/runbooks/runbook.js';
import {
  BAD_RUNBOOKS,
  frontMatter,
  GOOD_RUNBOOKS,
  lineOf,
  removeRunbookDirs,
  runbookDir,
} from '../fixtures/runbooks/temp-runbooks.js';

afterAll(removeRunbookDirs);

/** Loads one file and returns its problems as `name.md:line: path: message` lines. */
function lint(name: string, text: string) {
  const dir = runbookDir({ [name]: text });
  const catalog = loadCatalog(dir);
  const show = (p: Parameters<typeof formatProblem>[0]) => formatProblem(p, dir);
  return { catalog, errors: catalog.errors.map(show), warnings: catalog.warnings.map(show) };
}

describe('loading a folder of runbooks', () => {
  it('loads the good fixtures with their defaults; README.md is not a runbook; prose stays text', () => {
    const catalog = loadCatalog(GOOD_RUNBOOKS);
    expect(catalog.errors).toEqual([]);
    expect(catalog.warnings).toEqual([]);
    expect(catalog.files.map((f) => path.basename(f))).not.toContain('README.md');
    expect(catalog.runbooks.map((r) => r.id)).toEqual([
      'crashloop-settle',
      'critical-pods',
      'disk-watch',
      'pods-ignored',
      'pods-settle',
      'web-pods-settle',
    ]);
    const crashloop = catalog.get('crashloop-settle')!;
    expect(crashloop).toMatchObject({
      mode: 'approve',
      risk: 'medium',
      approvalsRequired: 1,
      stateful: false,
      idempotent: false,
      limits: { perTargetPerHour: 3, target: '{{target}}' },
      commands: {},
      roots: [],
      alternatives: [],
      verify: { after: '5m', afterMs: 300_000 },
    });
    expect(catalog.get('web-pods-settle')!.approvalsRequired).toBe(2);
    expect(catalog.get('disk-watch')!.verify).toBeUndefined();
    const settle = catalog.get('pods-settle')!;
    // The fenced command in the prose is kept as text and never becomes a step.
    expect(settle.prose).toContain('kubectl delete namespace default');
    expect(settle.steps).toEqual([{ type: 'wait', params: { for: '30s' }, line: 9 }]);
    expect(settle.escalation?.afterRuns).toBe(3);
  });

  it('requireValid: a clean catalog passes, a broken one is a reef_runbook_invalid error listing every problem', () => {
    expect(loadCatalog(GOOD_RUNBOOKS).requireValid().runbooks).toHaveLength(6);
    try {
      loadCatalog(BAD_RUNBOOKS).requireValid(BAD_RUNBOOKS);
      expect.unreachable();
    } catch (error) {
      expect(isReefError(error) && error.code).toBe('reef_runbook_invalid');
      expect(isReefError(error) && error.message).toBe(`4 runbook errors in 3 files under ${BAD_RUNBOOKS}`);
      expect(isReefError(error) && error.details[0]).toMatch(/^bad-template\.md:2: verify: required/);
    }
  });

  it('a folder that does not exist is a ReefError with a hint', () => {
    try {
      loadCatalog('/nonexistent/reef-runbooks');
      expect.unreachable();
    } catch (error) {
      expect(isReefError(error) && error.code).toBe('reef_runbooks_not_found');
      expect(isReefError(error) && error.hint).toMatch(/runbooks\.dir/);
    }
  });
});

describe('bad runbooks: every error with file:line and field', () => {
  it('unknown step, bad template field, path outside roots, command outside allowlist, missing verify: all at once', () => {
    const text = frontMatter(`
id: many-problems
title: Everything wrong at once
match: { check: disk, condition: disk-critical }
risk: low
roots: [/var/tmp]
commands:
  vacuum: [journalctl, "--vacuum-size={{size}}"]
steps:
  - kubernetes.restartPod: { pod: "{{facts.pod}}" }
  - wait: { for: "{{fact.duration}}" }
  - files.cleanup: { host: "{{facts.host}}", root: /etc, patterns: ["*.tmp"], olderThan: 2d }
  - ssh.exec: { host: "{{facts.host}}", command: rm-everything }
  - ssh.exec: { host: "{{facts.host}}", command: vacuum, args: { size: 500M } }
`);
    const { catalog, errors } = lint('many-problems.md', text);
    expect(catalog.runbooks).toEqual([]);
    expect(errors).toEqual([
      'many-problems.md:2: verify: required in mode approve: how long after the steps the check runs again to confirm the fix (e.g. verify: { after: 2m })',
      `many-problems.md:${lineOf(text, 'restartPod')}: steps[0].kubernetes.restartPod: unknown step type "kubernetes.restartPod": the closed action list is ${Object.keys(EXECUTORS).sort().join(', ')}`,
      `many-problems.md:${lineOf(text, 'fact.duration')}: steps[1].wait.for: unknown template field {{fact.duration}} (known: facts.<name>, target, check, condition, incident.id); did you mean {{facts.duration}}?`,
      `many-problems.md:${lineOf(text, 'root: /etc')}: steps[2].files.cleanup: root /etc is outside the runbook's roots (/var/tmp); declare its directory under roots: or use a path inside them`,
      `many-problems.md:${lineOf(text, 'rm-everything')}: steps[3].ssh.exec: command "rm-everything" is not declared by runbook many-problems; it declares: vacuum (size)`,
    ]);
  });

  it('a template reading a fact the check never produces, a list fact, a fact not always there', () => {
    const text = frontMatter(`
id: facts
title: Facts
match: { check: disk, condition: disk-critical }
risk: low
roots: [/var/tmp]
steps:
  - files.cleanup: { host: "{{facts.pod}}", root: /var/tmp, patterns: ["*.tmp"], olderThan: 2d }
  - files.cleanup: { host: "{{facts.paths}}", root: /var/tmp, patterns: ["*.tmp"], olderThan: 2d }
  - files.cleanup: { host: "{{facts.largestDirectoriesNote}}", root: /var/tmp, patterns: ["*.tmp"], olderThan: 2d }
verify: { after: 1m }
`);
    const { errors, warnings } = lint('facts.md', text);
    expect(errors).toEqual([
      expect.stringMatching(
        /^facts\.md:8: steps\[0\]\.files\.cleanup\.host: \{\{facts\.pod\}\}: disk findings \(disk-critical\) never carry a fact "pod" \(they carry: actPercent, .*host, .*\)$/,
      ),
      'facts.md:9: steps[1].files.cleanup.host: {{facts.paths}} is a list, and a template takes one value',
    ]);
    expect(warnings).toEqual([
      'facts.md:10: warning: steps[2].files.cleanup.host: {{facts.largestDirectoriesNote}}: not every one of disk findings (disk-critical) carries it (or it may be null); the step is refused when it is missing',
    ]);
  });

  it('templated params are not refused for what only the facts decide; literal mistakes still are', () => {
    const text = frontMatter(`
id: templated
title: Templated params
match: { check: disk, condition: [disk-high, disk-critical] }
risk: low
roots: [/srv/tmp]
steps:
  - files.cleanup: { host: "{{facts.host}}", root: "{{facts.mount}}/tmp", patterns: ["*.tmp"], olderThan: 2d }
  - files.cleanup: { host: "{{facts.host}}", root: /srv/tmp, patterns: ["*"], olderThan: 2d }
  - kubernetes.deletePod: { cluster: c, namespace: "{{facts.mount}}", pod: p, gracePeriodSeconds: "{{facts.usedPercent}}" }
verify: { after: 1m }
`);
    const { errors, warnings } = lint('templated.md', text);
    // A typical disk finding (mount /var) puts root at /var/tmp, outside /srv/tmp: worth a warning, not
    // an error, because a finding for the /srv mount renders /srv/tmp.
    expect(warnings).toEqual([
      expect.stringMatching(
        /^templated\.md:8: warning: steps\[0\]\.files\.cleanup: with a typical disk finding \(facts\.host = "web-1", facts\.mount = "\/var"\) this step would be refused: root \/var\/tmp is outside the runbook's roots/,
      ),
      // No disk finding has a mount that is a namespace name: the sample says so, the facts decide.
      expect.stringMatching(
        /^templated\.md:10: warning: steps\[2\]\.kubernetes\.deletePod\.namespace: with a typical disk finding \(facts\.mount = "\/var", facts\.usedPercent = "92"\): "\/var" is not a valid Kubernetes namespace/,
      ),
    ]);
    expect(errors).toEqual([
      'templated.md:9: steps[1].files.cleanup.patterns[0]: "*" matches every file; name what to delete (e.g. *.tmp)',
      'templated.md:10: steps[2].kubernetes.deletePod.gracePeriodSeconds: a template renders a string, and this field takes a number',
    ]);
  });

  it('commands are argv lists with a fixed program; their templates are named arguments only', () => {
    const text = frontMatter(`
id: commands
title: Commands
match: { check: disk, condition: disk-critical }
risk: low
commands:
  shell-line: "journalctl --vacuum-size=500M"
  templated-program: ["{{program}}", "--help"]
  reads-facts: [du, "-sh", "{{facts.mount}}"]
steps:
  - wait: { for: 1s }
verify: { after: 1m }
`);
    const { errors } = lint('commands.md', text);
    expect(errors).toEqual([
      `commands.md:${lineOf(text, 'shell-line')}: commands.shell-line: must be a list of arguments (argv), never a shell command line: ["journalctl", "--vacuum-size={{size}}"]`,
    ]);
    const fixed = text.replace(/ {2}shell-line.*\n/, '');
    expect(lint('commands.md', fixed).errors).toEqual([
      `commands.md:${lineOf(fixed, 'templated-program')}: commands.templated-program[0]: the program of a command is fixed: templates may only fill its arguments`,
      `commands.md:${lineOf(fixed, 'reads-facts')}: commands.reads-facts[2]: {{facts.mount}} cannot be used in a command: commands take named arguments such as {{size}}, which the ssh.exec step fills (e.g. args: { size: "{{facts.x}}" })`,
    ]);
  });

  it('an unquoted template, an unclosed one, a template in a key', () => {
    const text = frontMatter(`
id: syntax
title: Template syntax
match: { check: pods, condition: CrashLoopBackOff }
risk: low
steps:
  - kubernetes.deletePod:
      cluster: {{facts.cluster}}
      namespace: default
      pod: web
  - kubernetes.deletePod: { cluster: "{{facts.cluster", namespace: default, pod: web }
  - ssh.exec: { host: h, command: c, args: { "{{facts.pod}}": x } }
verify: { after: 1m }
`);
    const { errors } = lint('syntax.md', text);
    expect(errors).toEqual([
      `syntax.md:8: steps[0].kubernetes.deletePod.cluster: unquoted template: YAML reads {{…}} as a map; put it in quotes ("{{facts.pod}}")`,
      `syntax.md:11: steps[1].kubernetes.deletePod.cluster: "{{facts.cluster": "{{" is never closed by "}}"`,
      `syntax.md:12: steps[2].ssh.exec.args.{{facts.pod}}: templates go in values, never in keys`,
    ]);
  });

  it('unknown keys are errors, with the keys known there', () => {
    const text = frontMatter(`
id: strict
title: Strict
match: { check: pods, condition: CrashLoopBackOff, namespace: default }
risk: low
steps:
  - wait: { for: 1s, jitter: 1s }
verfy: { after: 1m }
`);
    const { errors } = lint('strict.md', text);
    expect(errors).toEqual([
      'strict.md:4: match.namespace: unknown key (known here: check, condition, target, severity)',
      expect.stringMatching(
        /^strict\.md:8: verfy: unknown key \(known here: id, title, match, mode, risk, .*verify.*\)$/,
      ),
    ]);
    expect(
      lint('strict.md', text.replace('namespace: default', 'target: "*"').replace('verfy', 'verify')).errors,
    ).toEqual(['strict.md:7: steps[0].wait.jitter: unknown key (known here: for)']);
  });

  it('field rules: id, conditions the check reports, limits, roots, verify, alternatives', () => {
    const text = frontMatter(`
id: Bad_Id
title: Rules
match: { check: pods, condition: [CrashLoop, ok] }
risk: extreme
limits: { perTargetPerHour: 0 }
roots: [var/log, /, /var/../etc]
steps: []
verify: { after: soon }
`);
    const { errors } = lint('rules.md', text);
    expect(errors).toEqual([
      'rules.md:2: id: must be kebab-case: lowercase letters and digits in words joined by "-" (e.g. pod-restart)',
      'rules.md:5: risk: Invalid option: expected one of "low"|"medium"|"high"',
      'rules.md:6: limits.perTargetPerHour: must be at least 1',
      'rules.md:7: roots[0]: must be an absolute path (starting with /)',
      'rules.md:7: roots[1]: must not be "/" (that is every file on the host)',
      'rules.md:7: roots[2]: must be a normalised path (no "..", "." or "//")',
      'rules.md:8: steps: needs at least one step',
      'rules.md:9: verify.after: invalid duration (use e.g. 30s, 15m, 1h, 2d)',
    ]);
    const second = frontMatter(`
id: rules
title: Rules
match: { check: pods, condition: [CrashLoop, ok] }
mode: auto
risk: high
limits: { perTargetPerHour: 3, perTargetPerDay: 2 }
steps:
  - wait: { for: 1s }
verify: { after: 2d }
alternatives: [rules, escalate]
escalation: { afterRuns: 4, message: "again" }
`);
    const more = lint('rules.md', second);
    expect(more.warnings).toEqual([
      'rules.md:12: warning: escalation.afterRuns: is above limits.perTargetPerDay (2): the runbook stops before the message is ever said',
    ]);
    expect(more.errors).toEqual([
      'rules.md:4: match.condition[0]: pods findings never have condition "CrashLoop" (they have: CrashLoopBackOff, OOMKilled, ImagePullBackOff, restarting, Pending)',
      'rules.md:4: match.condition[1]: a runbook never matches "ok": healthy targets need no fix',
      'rules.md:5: mode: a high-risk runbook needs two approvers, so it cannot run in mode auto',
      'rules.md:7: limits.perTargetPerDay: must be at least perTargetPerHour (3)',
      'rules.md:10: verify.after: must be between 1s and 24h',
      'rules.md:11: alternatives[0]: a runbook cannot be its own alternative',
    ]);
  });

  it('suggest and off runbooks need no verify; an id that differs from the file name only warns', () => {
    const text = frontMatter(`
id: only-suggest
title: Suggests
match: { check: http, condition: timeout }
mode: suggest
risk: low
steps:
  - wait: { for: 1s }
`);
    const { catalog, errors, warnings } = lint('suggest.md', text);
    expect(errors).toEqual([]);
    expect(warnings).toEqual([
      'suggest.md:2: warning: id: "only-suggest" differs from the file name (suggest.md): name the file after the id so people find it',
    ]);
    expect(catalog.get('only-suggest')?.mode).toBe('suggest');
  });

  it('malformed YAML, missing and unclosed front matter, a front matter that is not a mapping', () => {
    const dir = runbookDir({
      'yaml.md': '---\nid: yaml\ntitle: [unclosed\nrisk: low\n---\n',
      'dupkey.md': '---\nid: dupkey\nid: again\n---\n',
      'none.md': '# Just prose\n\nNo front matter here.\n',
      'unclosed.md': '---\nid: unclosed\ntitle: never closed\n',
      'list.md': '---\n- a\n- b\n---\n',
    });
    const catalog = loadCatalog(dir);
    const errors = catalog.errors.map((p) => formatProblem(p, dir));
    expect(catalog.runbooks).toEqual([]);
    expect(errors).toContain('dupkey.md:3: invalid YAML: Map keys must be unique');
    expect(errors).toContain(
      'list.md:2: the front matter must be a YAML mapping of fields (id: …, title: …, match: …, steps: …)',
    );
    expect(errors).toContain(
      'none.md:1: no front matter: a runbook starts with a line "---", then its YAML fields (id, title, match, steps…), then "---", then the prose',
    );
    expect(errors).toContain(
      'unclosed.md:1: the front matter opened by "---" on line 1 is never closed by a "---" line',
    );
    expect(errors.filter((e) => e.startsWith('yaml.md:'))).toEqual([
      expect.stringMatching(/^yaml\.md:[3-5]: invalid YAML: /),
    ]);
  });

  it('duplicate ids: neither file loads, each error names the other', () => {
    const body = (title: string) =>
      frontMatter(`
id: twin
title: ${title}
match: { check: http, condition: timeout }
mode: suggest
risk: low
steps:
  - wait: { for: 1s }
`);
    const dir = runbookDir({ 'twin.md': body('First'), 'twin-copy.md': body('Second') });
    const catalog = loadCatalog(dir);
    expect(catalog.runbooks).toEqual([]);
    expect(catalog.errors.map((p) => formatProblem(p, dir))).toEqual([
      'twin-copy.md:2: id: "twin" is also the id of twin.md:2: ids must be unique across the folder',
      'twin.md:2: id: "twin" is also the id of twin-copy.md:2: ids must be unique across the folder',
    ]);
  });

  it('alternatives must name runbooks that load', () => {
    const make = (id: string, alternatives: string) =>
      frontMatter(`
id: ${id}
title: ${id}
match: { check: http, condition: timeout }
mode: suggest
risk: low
steps:
  - wait: { for: 1s }
alternatives: ${alternatives}
`);
    const dir = runbookDir({
      'first.md': make('first', '[second, escalate]'),
      'second.md': make('second', '[first]'),
      'third.md': make('third', '\n  - first\n  - nowhere'),
    });
    const catalog = loadCatalog(dir);
    expect(catalog.runbooks.map((r) => r.id)).toEqual(['first', 'second']);
    expect(catalog.errors.map((p) => formatProblem(p, dir))).toEqual([
      'third.md:11: alternatives[1]: no runbook has id "nowhere" (known: first, second, third, or "escalate")',
    ]);
  });
});
