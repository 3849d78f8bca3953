import { z } from 'zod';
import { parseConfig } from '../../src/config/load.js';
import { errorMessage, isReefError } from '../../src/errors.js';
import { grantsOf } from './rbac-rules.js';
import type { KubeDoc } from './render.js';

/**
 * The rest of the deployment contract, checked on rendered manifests: the three roles run as separate
 * Deployments with the right `reef <role>` argument, non-root on a read-only root filesystem, probed on
 * /livez and /readyz; secrets only ever come from a Secret; Redis keeps its data (AOF) and never evicts; and the
 * reef.yaml in the ConfigMap is valid and watches only namespaces where Reef's ServiceAccount is bound.
 */

export const ROLES = ['scheduler', 'worker', 'bot'] as const;
const SECRET_NAME = /TOKEN|SECRET|PASSWORD|API_KEY|PRIVATE_KEY/;

const probeSchema = z.object({ httpGet: z.object({ path: z.string() }).optional() }).passthrough();
const securitySchema = z
  .object({
    runAsNonRoot: z.boolean().optional(),
    runAsUser: z.number().optional(),
    allowPrivilegeEscalation: z.boolean().optional(),
    readOnlyRootFilesystem: z.boolean().optional(),
  })
  .passthrough();
const containerSchema = z.object({
  name: z.string(),
  image: z.string().optional(),
  command: z.array(z.string()).optional(),
  args: z.array(z.string()).optional(),
  env: z
    .array(
      z.object({
        name: z.string(),
        value: z.string().optional(),
        valueFrom: z
          .object({ secretKeyRef: z.object({ name: z.string(), key: z.string() }).optional() })
          .passthrough()
          .optional(),
      }),
    )
    .optional(),
  securityContext: securitySchema.optional(),
  livenessProbe: probeSchema.optional(),
  readinessProbe: probeSchema.optional(),
});
const podSpecSchema = z
  .object({
    serviceAccountName: z.string().optional(),
    automountServiceAccountToken: z.boolean().optional(),
    securityContext: securitySchema.optional(),
    initContainers: z.array(containerSchema).optional(),
    containers: z.array(containerSchema),
  })
  .passthrough();
const workloadSchema = z.object({
  kind: z.string(),
  metadata: z.object({ name: z.string(), namespace: z.string().optional() }),
  spec: z.object({ template: z.object({ spec: podSpecSchema }) }).passthrough(),
});
type Workload = z.output<typeof workloadSchema>;
type PodSpec = z.output<typeof podSpecSchema>;

export function workloadsOf(docs: readonly KubeDoc[]): Workload[] {
  return docs
    .filter((d) => ['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob'].includes(d.kind))
    .map((d) => workloadSchema.parse(d));
}

function containerProblems(
  where: string,
  pod: PodSpec,
  container: z.output<typeof containerSchema>,
): string[] {
  const problems: string[] = [];
  const nonRoot = container.securityContext?.runAsNonRoot ?? pod.securityContext?.runAsNonRoot;
  const user = container.securityContext?.runAsUser ?? pod.securityContext?.runAsUser;
  if (nonRoot !== true || user === 0)
    problems.push(`${where}: may run as root (set runAsNonRoot: true and a non-zero runAsUser)`);
  if (container.securityContext?.allowPrivilegeEscalation !== false)
    problems.push(`${where}: allowPrivilegeEscalation is not false`);
  if (container.securityContext?.readOnlyRootFilesystem !== true)
    problems.push(
      `${where}: the root filesystem is writable (readOnlyRootFilesystem: true; mount /data and /tmp)`,
    );
  for (const variable of container.env ?? []) {
    if (SECRET_NAME.test(variable.name) && variable.valueFrom?.secretKeyRef === undefined)
      problems.push(
        `${where}: ${variable.name} must come from a Secret (valueFrom.secretKeyRef), not a literal`,
      );
  }
  return problems;
}

/** Every workload problem in the rendered documents (empty: the contract holds). */
export function workloadProblems(docs: readonly KubeDoc[]): string[] {
  const problems: string[] = [];
  const workloads = workloadsOf(docs);
  for (const workload of workloads) {
    const pod = workload.spec.template.spec;
    for (const c of [...(pod.initContainers ?? []), ...pod.containers])
      problems.push(
        ...containerProblems(`${workload.kind} ${workload.metadata.name} container ${c.name}`, pod, c),
      );
  }
  for (const role of ROLES) {
    const deployment = workloads.find((w) => w.kind === 'Deployment' && w.metadata.name === `reef-${role}`);
    if (!deployment) {
      problems.push(
        `no Deployment reef-${role}: each role (scheduler, worker, bot) runs as its own Deployment`,
      );
      continue;
    }
    const reef = deployment.spec.template.spec.containers.find((c) => c.name === 'reef');
    if (!reef) {
      problems.push(`Deployment reef-${role} has no container named reef`);
      continue;
    }
    if (reef.args?.[0] !== role || reef.command !== undefined)
      problems.push(
        `Deployment reef-${role}: the reef container must run \`reef ${role}\` (args: [${role}], the image's entrypoint), not ${JSON.stringify({ command: reef.command, args: reef.args })}`,
      );
    // Liveness only asks "does the process answer" (/livez), readiness "can it do its own work" (/readyz):
    // /healthz fails when a worker is missing anywhere, which must not restart or unroute healthy pods.
    for (const [probe, path] of [
      ['livenessProbe', '/livez'],
      ['readinessProbe', '/readyz'],
    ] as const) {
      if (reef[probe]?.httpGet?.path !== path)
        problems.push(`Deployment reef-${role}: ${probe} must be an httpGet on ${path}`);
    }
  }
  const bot = workloads.find((w) => w.metadata.name === 'reef-bot');
  if (bot && bot.spec.template.spec.automountServiceAccountToken !== false)
    problems.push(
      'Deployment reef-bot: the bot never calls the Kubernetes API; set automountServiceAccountToken: false',
    );
  const redis = workloads.find((w) => w.kind === 'StatefulSet' && w.metadata.name === 'reef-redis');
  if (redis) {
    const args = (redis.spec.template.spec.containers[0]?.args ?? []).join(' ');
    if (!/--appendonly yes/.test(args))
      problems.push('StatefulSet reef-redis: AOF is off (--appendonly yes)');
    if (!/--maxmemory-policy noeviction/.test(args))
      problems.push('StatefulSet reef-redis: BullMQ needs --maxmemory-policy noeviction');
  }
  return problems;
}

/**
 * The reef.yaml of the `reef-config` ConfigMap must load, and each in-cluster cluster must watch only
 * namespaces where the ServiceAccount of the scheduler and worker can read and restart pods (or, with no
 * namespaces listed, read cluster-wide).
 */
export function configProblems(docs: readonly KubeDoc[]): string[] {
  const configMap = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name.startsWith('reef-config'));
  const text = (configMap?.data as Record<string, string> | undefined)?.['reef.yaml'];
  if (text === undefined) return ['no ConfigMap reef-config with a reef.yaml'];
  let config: ReturnType<typeof parseConfig>;
  try {
    config = parseConfig(text, 'reef.yaml (ConfigMap reef-config)', {});
  } catch (error) {
    return [isReefError(error) ? error.describe() : errorMessage(error)];
  }
  const problems: string[] = [];
  const worker = workloadsOf(docs).find((w) => w.metadata.name === 'reef-worker');
  const account = {
    name: worker?.spec.template.spec.serviceAccountName ?? 'default',
    namespace: worker?.metadata.namespace ?? '',
  };
  const grants = grantsOf(docs, account);
  const holds = (namespace: string, resource: string, verb: string) =>
    grants.some(
      (g) => (g.namespace === namespace || g.namespace === '*') && g.resource === resource && g.verb === verb,
    );
  for (const [name, cluster] of Object.entries(config.clusters)) {
    if (!cluster.inCluster) continue;
    const namespaces = cluster.namespaces ?? ['*'];
    for (const namespace of namespaces) {
      for (const [resource, verb] of [
        ['pods', 'list'],
        ['pods', 'watch'],
        ['pods/log', 'get'],
        ['replicasets', 'get'],
        ['pods/eviction', 'create'],
      ] as const) {
        if (!holds(namespace, resource, verb))
          problems.push(
            `clusters.${name} watches namespace ${namespace === '*' ? '(all)' : namespace}, but ServiceAccount ${account.namespace}/${account.name} cannot ${verb} ${resource} there: add the RoleBindings for it (overlays/home-lab/access)`,
          );
      }
    }
  }
  return problems;
}
