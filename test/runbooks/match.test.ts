import { afterAll, describe, expect, it } from 'vitest';
import { toKubePod } from '../../src/adapters/kube-objects.js';
import { podFindings } from '../../src/checks/pod-findings.js';
import type { Finding } from '../../src/findings/finding.js';
import { loadCatalog } from '../../src/runbooks/catalog.js';
import { globToRegExp } from '../../src/runbooks/match.js';
import { makePod } from '../fixtures/kube-objects.js';
import {
  frontMatter,
  GOOD_RUNBOOKS,
  removeRunbookDirs,
  runbookDir,
} from '../fixtures/runbooks/temp-runbooks.js';

afterAll(removeRunbookDirs);

const catalog = loadCatalog(GOOD_RUNBOOKS);
const ids = (subject: Parameters<typeof catalog.match>[0], options?: Parameters<typeof catalog.match>[1]) =>
  catalog.match(subject, options).map((r) => r.id);

/** A real pods finding, from the check's own code. */
function crashLoop(name: string, namespace = 'default'): Finding {
  const pod = toKubePod(
    makePod({
      name,
      namespace,
      owner: { kind: 'ReplicaSet', name: 'web-7d9f8b6c5' },
      containers: [
        {
          name: 'app',
          state: 'CrashLoopBackOff',
          restartCount: 4,
          lastTermination: { reason: 'Error', exitCode: 1 },
        },
      ],
    }),
  );
  const [finding] = podFindings(pod, { cluster: 'home', now: new Date(), pendingAfterMs: 600_000 });
  return finding!;
}

describe('matching incidents and findings to runbooks', () => {
  it('most specific first: a target glob, then one condition over a list, then a shorter list', () => {
    const finding = crashLoop('web-7d9f8b6c5-x2x4z');
    expect(finding.condition).toBe('CrashLoopBackOff');
    expect(ids(finding)).toEqual(['web-pods-settle', 'crashloop-settle', 'pods-settle', 'critical-pods']);
  });

  it('a target outside the glob is not matched; runbooks in mode off are left out unless asked for', () => {
    const finding = crashLoop('api-5c4b-9kq2x');
    expect(ids(finding)).toEqual(['crashloop-settle', 'pods-settle', 'critical-pods']);
    expect(ids(finding, { includeOff: true })).toEqual([
      'crashloop-settle',
      'pods-ignored',
      'pods-settle',
      'critical-pods',
    ]);
  });

  it('matches an incident the same way (check, target, condition, severity)', () => {
    const incident = {
      id: '12',
      check: 'pods' as const,
      target: 'default/web-1',
      condition: 'OOMKilled',
      severity: 'warning' as const,
    };
    // critical-pods has a severity floor of critical: a warning does not reach it.
    expect(ids(incident)).toEqual(['web-pods-settle', 'pods-settle']);
    expect(ids({ ...incident, severity: 'critical' })).toEqual([
      'web-pods-settle',
      'pods-settle',
      'critical-pods',
    ]);
  });

  it('no match: another check, another condition', () => {
    expect(ids({ check: 'pods', target: 'default/x', condition: 'Pending', severity: 'warning' })).toEqual(
      [],
    );
    expect(
      ids({ check: 'http', target: 'api', condition: 'CrashLoopBackOff', severity: 'critical' }),
    ).toEqual([]);
    expect(
      ids({ check: 'disk', target: 'web-1:/var', condition: 'disk-critical', severity: 'critical' }),
    ).toEqual(['disk-watch']);
  });

  it('an exact target beats a glob, a longer glob beats a shorter one, ties go by id', () => {
    const make = (id: string, target: string) =>
      frontMatter(`
id: ${id}
title: ${id}
match: { check: disk, condition: disk-high, target: ${JSON.stringify(target)} }
mode: suggest
risk: low
steps:
  - wait: { for: 1s }
`);
    const dir = runbookDir({
      'any-host.md': make('any-host', '*'),
      'var-mounts.md': make('var-mounts', '*:/var*'),
      'web-var.md': make('web-var', 'web-1:/var'),
      'web-any.md': make('web-any', 'web-1:*'),
      'a-web-any.md': make('a-web-any', 'web-1:*'),
    });
    const local = loadCatalog(dir);
    expect(local.errors).toEqual([]);
    const subject = {
      check: 'disk' as const,
      target: 'web-1:/var',
      condition: 'disk-high',
      severity: 'warning' as const,
    };
    expect(local.match(subject).map((r) => r.id)).toEqual([
      'web-var',
      'a-web-any',
      'web-any',
      'var-mounts',
      'any-host',
    ]);
  });

  it('globs: * spans / and :, ? is one character, everything else is literal', () => {
    expect(globToRegExp('default/web-*').test('default/web-7d9f-x2')).toBe(true);
    expect(globToRegExp('*:/var').test('web-1:/var')).toBe(true);
    expect(globToRegExp('*:/var').test('web-1:/var/log')).toBe(false);
    expect(globToRegExp('web-?').test('web-1')).toBe(true);
    expect(globToRegExp('web.1').test('web-1')).toBe(false);
    expect(globToRegExp('a+(b)').test('a+(b)')).toBe(true);
  });
});
