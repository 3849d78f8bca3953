import { z } from 'zod';
import type { KubeDoc } from './render.js';

/**
 * Reef's least-privilege contract for Kubernetes, as a checker over rendered manifests: every problem
 * is one line naming the object and rule that breaks it. Reef needs to read pods, pod logs, events,
 * ReplicaSets and Deployments; to delete pods and create evictions in the namespaces it watches; and to
 * get and update the TLS Secrets it renews, by name. Anything beyond that is a widening, and fails.
 */

const READ = ['get', 'list', 'watch'] as const;
const WRITE = ['create', 'update', 'patch', 'delete', 'deletecollection', '*'];
const WORKLOADS = ['deployments', 'statefulsets', 'daemonsets', 'replicasets'];

/** Every permission Reef may hold: API group, resource (with subresource), verbs. */
export const ALLOWED: readonly { group: string; resource: string; verbs: readonly string[] }[] = [
  { group: '', resource: 'pods', verbs: [...READ, 'delete'] },
  { group: '', resource: 'pods/log', verbs: READ },
  { group: '', resource: 'pods/eviction', verbs: ['create'] },
  { group: '', resource: 'events', verbs: READ },
  { group: 'events.k8s.io', resource: 'events', verbs: READ },
  { group: 'apps', resource: 'replicasets', verbs: READ },
  { group: 'apps', resource: 'deployments', verbs: READ },
  { group: '', resource: 'secrets', verbs: ['get', 'update'] },
];

const ruleSchema = z.object({
  apiGroups: z.array(z.string()).nullish(),
  resources: z.array(z.string()).nullish(),
  verbs: z.array(z.string()).nullish(),
  resourceNames: z.array(z.string()).nullish(),
  nonResourceURLs: z.array(z.string()).nullish(),
});
export type PolicyRule = z.output<typeof ruleSchema>;

const roleSchema = z.object({
  kind: z.enum(['Role', 'ClusterRole']),
  metadata: z.object({ name: z.string(), namespace: z.string().optional() }),
  rules: z.array(ruleSchema).nullish(),
  aggregationRule: z.unknown().optional(),
});
type RoleDoc = z.output<typeof roleSchema>;

const bindingSchema = z.object({
  kind: z.enum(['RoleBinding', 'ClusterRoleBinding']),
  metadata: z.object({ name: z.string(), namespace: z.string().optional() }),
  roleRef: z.object({ kind: z.string(), name: z.string() }),
  subjects: z
    .array(z.object({ kind: z.string(), name: z.string(), namespace: z.string().optional() }))
    .nullish(),
});
type BindingDoc = z.output<typeof bindingSchema>;

export function rolesOf(docs: readonly KubeDoc[]): RoleDoc[] {
  return docs.filter((d) => d.kind === 'Role' || d.kind === 'ClusterRole').map((d) => roleSchema.parse(d));
}

export function bindingsOf(docs: readonly KubeDoc[]): BindingDoc[] {
  return docs
    .filter((d) => d.kind === 'RoleBinding' || d.kind === 'ClusterRoleBinding')
    .map((d) => bindingSchema.parse(d));
}

function objectName(doc: {
  kind: string;
  metadata: { name: string; namespace?: string | undefined };
}): string {
  return `${doc.kind} ${doc.metadata.namespace ? `${doc.metadata.namespace}/` : ''}${doc.metadata.name}`;
}

function describeRule(rule: PolicyRule): string {
  const parts = [
    `apiGroups [${(rule.apiGroups ?? []).map((g) => JSON.stringify(g)).join(', ')}]`,
    `resources [${(rule.resources ?? []).join(', ')}]`,
    ...(rule.resourceNames?.length ? [`resourceNames [${rule.resourceNames.join(', ')}]`] : []),
    ...(rule.nonResourceURLs?.length ? [`nonResourceURLs [${rule.nonResourceURLs.join(', ')}]`] : []),
    `verbs [${(rule.verbs ?? []).join(', ')}]`,
  ];
  return parts.join(', ');
}

/** What is wrong with one rule (empty: nothing). */
export function ruleProblems(rule: PolicyRule): string[] {
  const groups = rule.apiGroups ?? [];
  const resources = rule.resources ?? [];
  const verbs = rule.verbs ?? [];
  const problems: string[] = [];
  if (rule.nonResourceURLs?.length) problems.push('grants non-resource URLs; Reef needs none');
  if (verbs.includes('*')) problems.push('wildcard verb "*": list the verbs instead');
  if (resources.some((r) => r === '*' || r.startsWith('*/') || r.endsWith('/*')))
    problems.push('wildcard resource: list the resources instead');
  if (groups.includes('*')) problems.push('wildcard API group "*": name the group instead');
  const base = (r: string) => r.split('/')[0] ?? r;

  const onNamespaces = resources.filter((r) => base(r) === 'namespaces');
  if (onNamespaces.length > 0 && verbs.length > 0)
    problems.push(
      `grants ${verbs.join(', ')} on ${onNamespaces.join(', ')}: no verb at all is allowed on namespaces`,
    );

  const writes = verbs.filter((v) => WRITE.includes(v));
  const onWorkloads = resources.filter((r) => WORKLOADS.includes(base(r)));
  if (writes.length > 0 && onWorkloads.length > 0)
    problems.push(
      `write verb ${writes.join(', ')} on ${onWorkloads.join(', ')}: Reef never changes Deployments, StatefulSets, DaemonSets or ReplicaSets`,
    );

  if (resources.some((r) => base(r) === 'secrets')) {
    if (!rule.resourceNames?.length)
      problems.push('Secrets without resourceNames: name each TLS Secret Reef renews');
    const extra = verbs.filter((v) => v !== 'get' && v !== 'update');
    if (extra.length > 0)
      problems.push(`verb ${extra.join(', ')} on Secrets: only get and update (by name) are allowed`);
  }

  if (resources.includes('pods/eviction')) {
    const extra = verbs.filter((v) => v !== 'create');
    if (extra.length > 0) problems.push(`verb ${extra.join(', ')} on pods/eviction: only create is allowed`);
  }

  if (problems.length > 0) return problems;
  // Nothing specific: every (group, resource, verb) must still be one Reef needs.
  for (const group of groups) {
    for (const resource of resources) {
      const allowed = ALLOWED.find((a) => a.group === group && a.resource === resource);
      const extra = verbs.filter((v) => !allowed?.verbs.includes(v));
      if (extra.length > 0)
        problems.push(
          `${extra.join(', ')} on ${group ? `${group}/` : ''}${resource} is outside what Reef needs (${allowedText()})`,
        );
    }
  }
  return problems;
}

function allowedText(): string {
  return ALLOWED.map((a) => `${a.verbs.join('/')} ${a.group ? `${a.group}/` : ''}${a.resource}`).join('; ');
}

function isReadOnly(role: RoleDoc): boolean {
  return (role.rules ?? []).every((r) =>
    (r.verbs ?? []).every((v) => (READ as readonly string[]).includes(v)),
  );
}

/**
 * Every RBAC problem in the rendered documents: roles granting more than Reef needs, bindings to roles
 * these manifests do not define (cluster-admin, edit…), writes granted cluster-wide, or bindings to
 * anything but a ServiceAccount.
 */
export function rbacProblems(docs: readonly KubeDoc[]): string[] {
  const problems: string[] = [];
  const roles = rolesOf(docs);
  for (const role of roles) {
    if (role.aggregationRule !== undefined)
      problems.push(
        `${objectName(role)}: aggregationRule pulls in other roles' rules; list the rules instead`,
      );
    (role.rules ?? []).forEach((rule, i) => {
      for (const problem of ruleProblems(rule))
        problems.push(`${objectName(role)} rule ${i + 1} (${describeRule(rule)}): ${problem}`);
    });
  }
  for (const binding of bindingsOf(docs)) {
    const role = roles.find(
      (r) =>
        r.kind === binding.roleRef.kind &&
        r.metadata.name === binding.roleRef.name &&
        (r.kind === 'ClusterRole' || r.metadata.namespace === binding.metadata.namespace),
    );
    if (!role) {
      problems.push(
        `${objectName(binding)}: binds ${binding.roleRef.kind} ${binding.roleRef.name}, which these manifests do not define, so its rules cannot be checked (bind reef-read, reef-remediate or a Role listed here)`,
      );
    } else if (binding.kind === 'ClusterRoleBinding' && !isReadOnly(role)) {
      problems.push(
        `${objectName(binding)}: binds ${objectName(role)}, which writes, cluster-wide; grant writes per namespace with a RoleBinding in each namespace Reef watches`,
      );
    }
    for (const subject of binding.subjects ?? []) {
      if (subject.kind !== 'ServiceAccount')
        problems.push(
          `${objectName(binding)}: subject ${subject.kind} ${subject.name} is not a ServiceAccount; bind only Reef's ServiceAccount`,
        );
    }
  }
  return problems;
}

/** One permission a ServiceAccount holds, where, from which binding. */
export interface Grant {
  /** `*` for cluster-wide (a ClusterRoleBinding). */
  namespace: string;
  group: string;
  resource: string;
  verb: string;
  resourceNames: readonly string[];
}

/** Every permission `namespace/name` holds through the rendered bindings (the effective RBAC). */
export function grantsOf(
  docs: readonly KubeDoc[],
  serviceAccount: { namespace: string; name: string },
): Grant[] {
  const roles = rolesOf(docs);
  const grants: Grant[] = [];
  for (const binding of bindingsOf(docs)) {
    const bound = (binding.subjects ?? []).some(
      (s) =>
        s.kind === 'ServiceAccount' &&
        s.name === serviceAccount.name &&
        (s.namespace ?? binding.metadata.namespace) === serviceAccount.namespace,
    );
    if (!bound) continue;
    const role = roles.find(
      (r) =>
        r.kind === binding.roleRef.kind &&
        r.metadata.name === binding.roleRef.name &&
        (r.kind === 'ClusterRole' || r.metadata.namespace === binding.metadata.namespace),
    );
    const namespace = binding.kind === 'ClusterRoleBinding' ? '*' : (binding.metadata.namespace ?? '');
    for (const rule of role?.rules ?? []) {
      for (const group of rule.apiGroups ?? [])
        for (const resource of rule.resources ?? [])
          for (const verb of rule.verbs ?? [])
            grants.push({ namespace, group, resource, verb, resourceNames: rule.resourceNames ?? [] });
    }
  }
  return grants;
}
