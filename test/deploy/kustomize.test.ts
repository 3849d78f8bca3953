import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantsOf, rbacProblems } from './rbac-rules.js';
import { DEPLOY_DIR, type KubeDoc, kubectlVersion, renderKustomization } from './render.js';
import { configProblems, workloadProblems, workloadsOf } from './workload-rules.js';

/**
 * deploy/kubernetes rendered by the real `kubectl kustomize` and held to Reef's least-privilege
 * contract; overlays that widen the RBAC are rendered the same way and must fail the same checker.
 */

const HOME_LAB = path.join(DEPLOY_DIR, 'overlays/home-lab');
const temps: string[] = [];
let base: KubeDoc[];
let homeLab: KubeDoc[];

beforeAll(async () => {
  // No kubectl is a failure with the way out, never a skip: CI installs it (.ci/run).
  await kubectlVersion();
  [base, homeLab] = await Promise.all([
    renderKustomization(path.join(DEPLOY_DIR, 'base')),
    renderKustomization(HOME_LAB),
  ]);
});

afterAll(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** The data of the generated reef-env ConfigMap (its name carries a hash suffix). */
function envOf(docs: readonly KubeDoc[]): Record<string, string> {
  const env = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name.startsWith('reef-env'));
  return (env?.data ?? {}) as Record<string, string>;
}

/** A temporary overlay on top of home-lab, with extra objects and strategic-merge patches. */
async function renderWidened(files: { resources?: string; patch?: string }): Promise<KubeDoc[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'reef-overlay-'));
  temps.push(dir);
  const lines = ['bases:', `  - ${path.relative(dir, HOME_LAB)}`];
  if (files.resources) {
    writeFileSync(path.join(dir, 'extra.yaml'), files.resources);
    lines.push('resources:', '  - extra.yaml');
  }
  if (files.patch) {
    writeFileSync(path.join(dir, 'patch.yaml'), files.patch);
    lines.push('patchesStrategicMerge:', '  - patch.yaml');
  }
  writeFileSync(path.join(dir, 'kustomization.yaml'), `${lines.join('\n')}\n`);
  return renderKustomization(dir);
}

const clusterRole = (name: string, rules: string) =>
  `apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: ${name}\nrules:\n${rules}`;

const binding = (kind: 'RoleBinding' | 'ClusterRoleBinding', name: string, roleKind: string, role: string) =>
  [
    'apiVersion: rbac.authorization.k8s.io/v1',
    `kind: ${kind}`,
    'metadata:',
    `  name: ${name}`,
    ...(kind === 'RoleBinding' ? ['  namespace: default'] : []),
    'roleRef:',
    '  apiGroup: rbac.authorization.k8s.io',
    `  kind: ${roleKind}`,
    `  name: ${role}`,
    'subjects:',
    '  - { kind: ServiceAccount, name: reef, namespace: reef }',
    '',
  ].join('\n');

describe('deploy/kubernetes rendered with kubectl kustomize', () => {
  it('the base is namespace-less, defines the ClusterRoles without binding them, and meets the contract', () => {
    expect(
      base.filter((d) => d.metadata.namespace !== undefined).map((d) => `${d.kind} ${d.metadata.name}`),
    ).toEqual([]);
    expect(
      base
        .filter((d) => d.kind === 'ClusterRole')
        .map((d) => d.metadata.name)
        .sort(),
    ).toEqual(['reef-read', 'reef-remediate']);
    expect(base.filter((d) => d.kind.endsWith('Binding'))).toEqual([]);
    expect(rbacProblems(base)).toEqual([]);
    expect(workloadProblems(base)).toEqual([]);
    expect(configProblems(base)).toEqual([]);
    // Redis lives in its own directory, so an overlay with an external Redis simply leaves it out,
    // and says where Redis is itself.
    expect(base.some((d) => d.kind === 'StatefulSet')).toBe(false);
    expect(Object.keys(envOf(base)).filter((k) => k.startsWith('REDIS'))).toEqual([]);
  });

  it('home-lab puts Reef in its namespace, binds it only in the watched namespaces, and passes every check', () => {
    expect(rbacProblems(homeLab)).toEqual([]);
    expect(workloadProblems(homeLab)).toEqual([]);
    expect(configProblems(homeLab)).toEqual([]);
    const namespaced = homeLab.filter((d) => !['Namespace', 'ClusterRole'].includes(d.kind));
    const outside = namespaced.filter((d) => d.metadata.namespace !== 'reef');
    expect(outside.map((d) => `${d.kind} ${d.metadata.namespace}/${d.metadata.name}`).sort()).toEqual([
      'Role apps/reef-tls-secrets',
      'RoleBinding apps/reef-read',
      'RoleBinding apps/reef-remediate',
      'RoleBinding apps/reef-tls-secrets',
      'RoleBinding default/reef-read',
      'RoleBinding default/reef-remediate',
    ]);
    expect(homeLab.filter((d) => d.kind === 'ClusterRoleBinding')).toEqual([]);
    // Reef finds the Redis StatefulSet of this overlay through its Service.
    expect(envOf(homeLab).REDIS_URL).toBe('redis://reef-redis:6379');
    expect(
      homeLab
        .filter((d) => d.metadata.name === 'reef-redis')
        .map((d) => d.kind)
        .sort(),
    ).toEqual(['NetworkPolicy', 'Service', 'ServiceAccount', 'StatefulSet']);
  });

  it("home-lab's effective RBAC for reef/reef is exactly read, restart and one TLS Secret, per namespace", () => {
    const grants = grantsOf(homeLab, { namespace: 'reef', name: 'reef' })
      .map(
        (g) =>
          `${g.namespace}: ${g.verb} ${g.group ? `${g.group}/` : ''}${g.resource}${g.resourceNames.length ? ` [${g.resourceNames.join(',')}]` : ''}`,
      )
      .sort();
    const read = (ns: string) =>
      ['pods', 'pods/log', 'events', 'events.k8s.io/events', 'apps/replicasets', 'apps/deployments'].flatMap(
        (r) => ['get', 'list', 'watch'].map((v) => `${ns}: ${v} ${r}`),
      );
    const restart = (ns: string) => [`${ns}: delete pods`, `${ns}: create pods/eviction`];
    expect(grants).toEqual(
      [
        ...read('default'),
        ...restart('default'),
        ...read('apps'),
        ...restart('apps'),
        'apps: get secrets [web-tls]',
        'apps: update secrets [web-tls]',
      ].sort(),
    );
    expect(grantsOf(homeLab, { namespace: 'reef', name: 'reef-bot' })).toEqual([]);
  });

  it('the three roles run as separate Deployments with their reef command, non-root, probed on /livez and /readyz', () => {
    const deployments = workloadsOf(homeLab).filter((w) => w.kind === 'Deployment');
    expect(
      deployments.map((d) => {
        const pod = d.spec.template.spec;
        const reef = pod.containers.find((c) => c.name === 'reef');
        return {
          name: d.metadata.name,
          args: reef?.args,
          serviceAccount: pod.serviceAccountName,
          nonRoot: pod.securityContext?.runAsNonRoot,
          readOnlyRoot: reef?.securityContext?.readOnlyRootFilesystem,
          probes: [reef?.livenessProbe?.httpGet?.path, reef?.readinessProbe?.httpGet?.path],
        };
      }),
    ).toEqual(
      ['bot', 'scheduler', 'worker'].map((role) => ({
        name: `reef-${role}`,
        args: [role],
        serviceAccount: role === 'bot' ? 'reef-bot' : 'reef',
        nonRoot: true,
        readOnlyRoot: true,
        probes: ['/livez', '/readyz'],
      })),
    );
    const pdb = homeLab.find((d) => d.kind === 'PodDisruptionBudget');
    expect(pdb?.metadata.name).toBe('reef-worker');
  });
});

describe('an overlay that widens the RBAC fails the same checker, naming the rule', () => {
  const cases: { name: string; files: { resources?: string; patch?: string }; expected: RegExp }[] = [
    {
      name: 'delete on namespaces',
      files: {
        resources: `${clusterRole('reef-ns', '  - { apiGroups: [""], resources: [namespaces], verbs: [delete] }\n')}---\n${binding('ClusterRoleBinding', 'reef-ns', 'ClusterRole', 'reef-ns')}`,
      },
      expected:
        /^ClusterRole reef-ns rule 1 \(apiGroups \[""\], resources \[namespaces\], verbs \[delete\]\): grants delete on namespaces: no verb at all is allowed on namespaces$/,
    },
    {
      name: 'a get on namespaces (read is a verb too)',
      files: {
        patch: clusterRole('reef-read', '  - { apiGroups: [""], resources: [namespaces], verbs: [get] }\n'),
      },
      expected: /^ClusterRole reef-read rule 1 .*no verb at all is allowed on namespaces$/,
    },
    {
      name: '"*" verbs',
      files: {
        patch: clusterRole('reef-read', '  - { apiGroups: [""], resources: [pods], verbs: ["*"] }\n'),
      },
      expected:
        /^ClusterRole reef-read rule 1 \(.*verbs \[\*\]\): wildcard verb "\*": list the verbs instead$/,
    },
    {
      name: 'a wildcard resource',
      files: {
        patch: clusterRole('reef-read', '  - { apiGroups: [apps], resources: ["*"], verbs: [get] }\n'),
      },
      expected: /^ClusterRole reef-read rule 1 .*wildcard resource/,
    },
    {
      name: 'update on deployments',
      files: {
        patch: clusterRole(
          'reef-read',
          '  - { apiGroups: [apps], resources: [deployments], verbs: [get, list, watch, update] }\n',
        ),
      },
      expected: /^ClusterRole reef-read rule 1 .*: write verb update on deployments: Reef never changes/,
    },
    {
      name: 'scaling deployments (a subresource is a write on them too)',
      files: {
        patch: clusterRole(
          'reef-remediate',
          '  - { apiGroups: [apps], resources: [deployments/scale], verbs: [patch] }\n',
        ),
      },
      expected: /^ClusterRole reef-remediate rule 1 .*write verb patch on deployments\/scale/,
    },
    {
      name: 'Secrets without resourceNames',
      files: {
        patch:
          'apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: reef-tls-secrets\n  namespace: apps\nrules:\n  - { apiGroups: [""], resources: [secrets], verbs: [get, update] }\n',
      },
      expected: /^Role apps\/reef-tls-secrets rule 1 .*: Secrets without resourceNames/,
    },
    {
      name: 'list on Secrets, even by name',
      files: {
        patch:
          'apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: reef-tls-secrets\n  namespace: apps\nrules:\n  - { apiGroups: [""], resources: [secrets], resourceNames: [web-tls], verbs: [get, list, update] }\n',
      },
      expected: /^Role apps\/reef-tls-secrets rule 1 .*: verb list on Secrets: only get and update/,
    },
    {
      name: 'more than create on evictions',
      files: {
        patch: clusterRole(
          'reef-remediate',
          '  - { apiGroups: [""], resources: [pods/eviction], verbs: [create, delete] }\n',
        ),
      },
      expected:
        /^ClusterRole reef-remediate rule 1 .*: verb delete on pods\/eviction: only create is allowed$/,
    },
    {
      name: 'a permission Reef does not need (configmaps)',
      files: {
        patch: clusterRole('reef-read', '  - { apiGroups: [""], resources: [configmaps], verbs: [get] }\n'),
      },
      expected: /^ClusterRole reef-read rule 1 .*: get on configmaps is outside what Reef needs/,
    },
    {
      name: 'a binding to cluster-admin',
      files: { resources: binding('RoleBinding', 'reef-admin', 'ClusterRole', 'cluster-admin') },
      expected:
        /^RoleBinding default\/reef-admin: binds ClusterRole cluster-admin, which these manifests do not define/,
    },
    {
      name: 'restarting pods cluster-wide',
      files: { resources: binding('ClusterRoleBinding', 'reef-everywhere', 'ClusterRole', 'reef-remediate') },
      expected:
        /^ClusterRoleBinding reef-everywhere: binds ClusterRole reef-remediate, which writes, cluster-wide/,
    },
  ];

  it.concurrent.each(cases)('$name', async ({ files, expected }) => {
    const problems = rbacProblems(await renderWidened(files));
    expect(problems).toContainEqual(expect.stringMatching(expected));
  });

  it('a Deployment patched to run as root fails the workload checks, naming the container', async () => {
    const docs = await renderWidened({
      patch:
        'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: reef-bot\n  namespace: reef\nspec:\n  template:\n    spec:\n      securityContext:\n        runAsNonRoot: false\n        runAsUser: 0\n',
    });
    expect(rbacProblems(docs)).toEqual([]);
    expect(workloadProblems(docs)).toEqual(
      expect.arrayContaining([
        'Deployment reef-bot container runbooks: may run as root (set runAsNonRoot: true and a non-zero runAsUser)',
        'Deployment reef-bot container reef: may run as root (set runAsNonRoot: true and a non-zero runAsUser)',
      ]),
    );
  });

  it('a watched namespace without RoleBindings is caught in the config check', () => {
    const withMonitoring = homeLab.map((d) => {
      if (d.kind !== 'ConfigMap' || !d.metadata.name.startsWith('reef-config')) return d;
      const data = d.data as Record<string, string>;
      return {
        ...d,
        data: { 'reef.yaml': data['reef.yaml']!.replace('[default, apps]', '[default, apps, monitoring]') },
      };
    });
    expect(configProblems(withMonitoring)).toEqual(
      expect.arrayContaining([
        'clusters.home watches namespace monitoring, but ServiceAccount reef/reef cannot list pods there: add the RoleBindings for it (overlays/home-lab/access)',
      ]),
    );
  });
});
