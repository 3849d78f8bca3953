import { afterAll, describe, expect, it } from 'vitest';
import { toKubePod } from '../../src/adapters/kube-objects.js';
import { podFindings } from '../../src/checks/pod-findings.js';
import type { Facts } from '../../src/findings/finding.js';
import { loadCatalog } from '../../src/runbooks/catalog.js';
import { limitKey, type RenderSubject, render } from '../../src/runbooks/render.js';
import type { Runbook } from '../../src/runbooks/runbook.js';
import { makePod } from '../fixtures/kube-objects.js';
import { frontMatter, removeRunbookDirs, runbookDir } from '../fixtures/runbooks/temp-runbooks.js';

afterAll(removeRunbookDirs);

function load(id: string, fields: string): Runbook {
  const dir = runbookDir({ [`${id}.md`]: frontMatter(`id: ${id}\n${fields}`) });
  const catalog = loadCatalog(dir);
  expect(catalog.errors).toEqual([]);
  return catalog.get(id)!;
}

const restart = load(
  'restart',
  `
title: Restart
match: { check: pods, condition: [CrashLoopBackOff, OOMKilled] }
risk: low
limits: { perTargetPerHour: 2, target: "{{facts.namespace}}/{{facts.ownerName}}" }
steps:
  - kubernetes.deletePod: { cluster: "{{facts.cluster}}", namespace: "{{facts.namespace}}", pod: "{{facts.pod}}" }
verify: { after: 2m }
escalation: { afterRuns: 3, message: "pods of {{facts.ownerName}} keep crashing (incident {{incident.id}})" }
`,
);

const cleanup = load(
  'cleanup',
  `
title: Cleanup
match: { check: disk, condition: disk-critical }
risk: low
roots: [/var/tmp, /srv]
commands:
  vacuum: [journalctl, "--vacuum-size={{size}}"]
  list: [ls, "-l", "--", "{{dir}}"]
steps:
  - files.cleanup: { host: "{{facts.host}}", root: "{{facts.mount}}/tmp", patterns: ["*.tmp"], olderThan: 2d }
  - ssh.exec: { host: "{{facts.host}}", command: vacuum, args: { size: "{{facts.filesystem}}" } }
  - ssh.exec: { host: "{{facts.host}}", command: list, args: { dir: "{{facts.mount}}" } }
verify: { after: 1m }
`,
);

/** A real crash-looping pod's finding, as an incident. */
function podIncident(overrides: Facts = {}): RenderSubject {
  const pod = toKubePod(
    makePod({
      name: 'web-7d9f8b6c5-x2x4z',
      owner: { kind: 'ReplicaSet', name: 'web-7d9f8b6c5' },
      containers: [{ name: 'app', state: 'CrashLoopBackOff', restartCount: 3 }],
    }),
  );
  const [finding] = podFindings(pod, {
    cluster: 'home',
    now: new Date(),
    pendingAfterMs: 600_000,
    owner: { kind: 'Deployment', name: 'web' },
  });
  return { id: '42', ...finding!, facts: { ...finding!.facts, ...overrides } };
}

function diskIncident(facts: Facts): RenderSubject {
  return {
    id: '7',
    check: 'disk',
    target: 'web-1:/var',
    condition: 'disk-critical',
    facts: { host: 'web-1', mount: '/var', filesystem: '500M', ...facts },
  };
}

describe('render(runbook, incident)', () => {
  it('renders a real finding into validated steps, with the exact call and the escalation message', () => {
    const result = render(restart, podIncident());
    expect(result).toEqual({
      status: 'ok',
      steps: [
        {
          type: 'kubernetes.deletePod',
          params: { cluster: 'home', namespace: 'default', pod: 'web-7d9f8b6c5-x2x4z', mode: 'evict' },
          mutates: true,
          description:
            'POST /api/v1/namespaces/default/pods/web-7d9f8b6c5-x2x4z/eviction (policy/v1 Eviction) on cluster home',
        },
      ],
      escalationMessage: 'pods of web keep crashing (incident 42)',
    });
    // Pure: the same input renders the same way, and the runbook's templates are untouched.
    expect(render(restart, podIncident())).toEqual(result);
    expect(restart.steps[0]!.params).toMatchObject({ pod: '{{facts.pod}}' });
  });

  it('refuses shell metacharacters and invalid Kubernetes names, naming the fact and every reason', () => {
    const result = render(
      restart,
      podIncident({ pod: 'web;rm -rf /', namespace: 'Prod_NS', cluster: 'home' }),
    );
    expect(result.status).toBe('refused');
    if (result.status !== 'refused') return;
    expect(result.problems).toEqual([
      {
        step: 0,
        type: 'kubernetes.deletePod',
        field: 'steps[0].kubernetes.deletePod.namespace',
        sources: ['facts.namespace'],
        message: expect.stringMatching(/^facts\.namespace "Prod_NS" is not a valid Kubernetes namespace/),
      },
      {
        step: 0,
        type: 'kubernetes.deletePod',
        field: 'steps[0].kubernetes.deletePod.pod',
        sources: ['facts.pod'],
        message: expect.stringMatching(
          /^facts\.pod "web;rm -rf \/" holds ";", a shell or glob metacharacter; is not a valid Kubernetes name/,
        ),
      },
    ]);
  });

  it('refuses a missing or null fact, and never half-renders', () => {
    const { pod: _, ...facts } = podIncident().facts;
    const missing = render(restart, { ...podIncident(), facts: { ...facts, cluster: null } });
    expect(missing.status === 'refused' && missing.problems.map((p) => `${p.field}: ${p.message}`)).toEqual([
      'steps[0].kubernetes.deletePod.cluster: facts.cluster is null',
      'steps[0].kubernetes.deletePod.pod: facts.pod is missing (the finding has no such fact)',
    ]);
  });

  it('refuses "../" in a path fact, and a path that renders outside the roots', () => {
    const dots = render(cleanup, diskIncident({ mount: '/var/tmp/../../etc' }));
    expect(dots.status === 'refused' && dots.problems.map((p) => `${p.field}: ${p.message}`)).toEqual([
      expect.stringMatching(
        /^steps\[0\]\.files\.cleanup\.root: facts\.mount "\/var\/tmp\/\.\.\/\.\.\/etc" holds a "\.\." path segment/,
      ),
      expect.stringMatching(
        /^steps\[2\]\.ssh\.exec\.args\.dir: facts\.mount ".*" holds a "\.\." path segment/,
      ),
    ]);
    const outside = render(cleanup, diskIncident({ mount: '/etc' }));
    expect(outside.status === 'refused' && outside.problems).toEqual([
      {
        step: 0,
        type: 'files.cleanup',
        field: 'steps[0].files.cleanup',
        sources: ['facts.host', 'facts.mount'],
        message:
          "root /etc/tmp is outside the runbook's roots (/var/tmp, /srv); declare its directory under roots: or use a path inside them",
      },
    ]);
  });

  it('a template value is exactly one argv element: data stays data, and option-looking or spaced values are refused', () => {
    const ok = render(cleanup, diskIncident({ mount: '/srv', filesystem: 'x=1,y=2' }));
    expect(ok.status === 'ok' && ok.steps.map((s) => s.description)).toEqual([
      expect.stringContaining('find /srv/tmp -xdev -type f'),
      'on web-1: journalctl --vacuum-size=x=1,y=2',
      'on web-1: ls -l -- /srv',
    ]);
    const hostile = render(
      cleanup,
      diskIncident({ mount: '/srv', filesystem: '1G --rotate', host: '-oProxyCommand=sh' }),
    );
    expect(hostile.status === 'refused' && hostile.problems.map((p) => p.message)).toEqual([
      expect.stringMatching(/^facts\.host "-oProxyCommand=sh" starts with "-"/),
      expect.stringMatching(/^facts\.host "-oProxyCommand=sh" starts with "-"/),
      expect.stringMatching(/^facts\.filesystem "1G --rotate" holds a space, a shell or glob metacharacter/),
      expect.stringMatching(/^facts\.host "-oProxyCommand=sh" starts with "-"/),
    ]);
    const substitution = render(cleanup, diskIncident({ mount: '/srv', filesystem: '$(reboot)' }));
    expect(substitution.status === 'refused' && substitution.problems.map((p) => p.message)).toEqual([
      'facts.filesystem "$(reboot)" holds "$", a shell or glob metacharacter',
    ]);
  });

  it('limitKey counts a restarted pod under its owner, and falls back to the target without one', () => {
    expect(limitKey(restart, podIncident())).toBe('default/web');
    expect(limitKey(restart, podIncident({ ownerName: null }))).toBe('default/web-7d9f8b6c5-x2x4z');
    expect(limitKey(cleanup, diskIncident({}))).toBe('web-1:/var');
  });
});
