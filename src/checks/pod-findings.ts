import type { KubeContainerStatus, KubeContainerTermination, KubePod } from '../adapters/kube-objects.js';
import { controllerOf } from '../adapters/kube-objects.js';
import { type Facts, type FactValue, type Finding, makeFinding, type Severity } from '../findings/finding.js';
import { formatDuration } from '../util/duration.js';

/** An OOM kill older than this, with the container running since, is history rather than a problem. */
export const OOM_RECENT_MS = 3_600_000;

export interface PodContext {
  cluster: string;
  now: Date;
  /** A pod Pending longer than this is reported. */
  pendingAfterMs: number;
  /**
   * The restart count to compare each container's with (see RememberedRestarts in pods.ts). A container
   * missing here (a new pod, or no memory, as in `reef check --once`) cannot be "restarting".
   */
  previousRestarts?: ReadonlyMap<string, number>;
  /** The owner to report (a ReplicaSet resolved to its Deployment); default: the pod's own controller. */
  owner?: { kind: string; name: string };
  /** Why the owner could not be resolved, kept in the facts rather than failing the check. */
  ownerError?: string;
}

type Problem = { condition: string; severity: Severity; summary: string; facts: Facts };

/**
 * What one pod's state says, as findings with target `namespace/pod`: one per problem condition (the
 * first container showing it speaks for the pod), or a single `ok` finding when there is none. Pure, so a
 * sweep and a watch event judge a pod alike.
 *
 * Per container the most specific cause wins: ImagePullBackOff, then OOMKilled, then CrashLoopBackOff,
 * then restarting. A container crash-looping because it runs out of memory therefore opens one
 * OOMKilled incident, not two.
 *
 * Severity: CrashLoopBackOff, OOMKilled and ImagePullBackOff are critical because the container is not
 * running (or is killed as soon as it gets busy) and will not recover on its own; Pending and restarting
 * are warnings because the pod may still be scheduled, or keeps serving between restarts.
 */
export function podFindings(pod: KubePod, context: PodContext): Finding[] {
  const { metadata } = pod;
  const target = `${metadata.namespace}/${metadata.name}`;
  const base = baseFacts(pod, context);
  const problems = new Map<string, Problem>();
  for (const container of pod.containerStatuses) {
    const problem = containerProblem(container, context);
    if (problem && !problems.has(problem.condition)) {
      problems.set(problem.condition, { ...problem, facts: { ...base, ...problem.facts } });
    }
  }
  const created = metadata.creationTimestamp ? Date.parse(metadata.creationTimestamp) : Number.NaN;
  const pendingMs = context.now.getTime() - created;
  // A pod Pending because its image cannot be pulled already has the more useful finding.
  if (problems.size === 0 && pod.phase === 'Pending' && pendingMs > context.pendingAfterMs) {
    const scheduled = pod.conditions.find((c) => c.type === 'PodScheduled' && c.status !== 'True');
    // Not a scheduling problem: a container stuck before starting (ContainerCreating, a config error).
    const stuck = pod.containerStatuses.find((c) => c.state.waiting?.reason)?.state.waiting;
    const why = scheduled?.reason ?? pod.reason ?? stuck?.reason;
    const message = scheduled?.message ?? pod.message ?? stuck?.message;
    problems.set('Pending', {
      condition: 'Pending',
      severity: 'warning',
      summary: `pending for ${formatDuration(pendingMs)}${why ? `: ${why}` : ''}${message ? ` (${clip(message, 200)})` : ''}`,
      facts: clean({ ...base, pendingForMs: pendingMs, reason: why, message: message && clip(message, 500) }),
    });
  }
  const observedAt = context.now;
  if (problems.size === 0) {
    const containers = pod.containerStatuses.filter((c) => !c.init);
    const ready = containers.filter((c) => c.ready).length;
    return [
      makeFinding(
        {
          check: 'pods',
          target,
          condition: 'ok',
          severity: 'ok',
          summary: `${pod.phase ?? 'Unknown'}, ${ready}/${containers.length} containers ready`,
          facts: clean({
            cluster: context.cluster,
            namespace: metadata.namespace,
            pod: metadata.name,
            phase: pod.phase,
          }),
        },
        observedAt,
      ),
    ];
  }
  return [...problems.values()].map((p) => makeFinding({ check: 'pods', target, ...p }, observedAt));
}

function containerProblem(
  c: KubeContainerStatus,
  context: PodContext,
): (Omit<Problem, 'facts'> & { facts: Facts }) | undefined {
  const waiting = c.state.waiting?.reason;
  const last: KubeContainerTermination | undefined = c.state.terminated ?? c.lastState.terminated;
  const facts = clean({
    container: c.name,
    initContainer: c.init || undefined,
    restartCount: c.restartCount,
    lastTerminationReason: last?.reason ?? null,
    exitCode: last?.exitCode ?? null,
    waitingReason: waiting,
  });
  const exit = last
    ? `last exit ${last.exitCode ?? '?'}${last.reason ? ` (${last.reason})` : ''}`
    : 'no exit recorded';
  const restarts = `${c.restartCount} restart${c.restartCount === 1 ? '' : 's'}`;
  if (waiting === 'ImagePullBackOff' || waiting === 'ErrImagePull') {
    const message = c.state.waiting?.message;
    return {
      condition: 'ImagePullBackOff',
      severity: 'critical',
      summary: `container ${c.name} cannot pull its image${c.image ? ` ${c.image}` : ''} (${waiting}${message ? `: ${clip(message, 200)}` : ''})`,
      facts: clean({ ...facts, image: c.image, message: message && clip(message, 500) }),
    };
  }
  const finished = last?.finishedAt ? Date.parse(last.finishedAt) : Number.NaN;
  const ago = context.now.getTime() - finished;
  if (last?.reason === 'OOMKilled' && (Number.isNaN(ago) || ago <= OOM_RECENT_MS)) {
    return {
      condition: 'OOMKilled',
      severity: 'critical',
      summary: `container ${c.name} was OOMKilled${Number.isNaN(ago) ? '' : ` ${formatDuration(Math.max(0, ago))} ago`} (exit ${last.exitCode ?? 137}; ${restarts})`,
      facts: clean({ ...facts, finishedAt: last.finishedAt }),
    };
  }
  if (waiting === 'CrashLoopBackOff') {
    return {
      condition: 'CrashLoopBackOff',
      severity: 'critical',
      summary: `container ${c.name} is crash-looping: ${restarts}, ${exit}`,
      facts,
    };
  }
  const previous = context.previousRestarts?.get(c.name);
  if (previous !== undefined && c.restartCount > previous) {
    const delta = c.restartCount - previous;
    return {
      condition: 'restarting',
      severity: 'warning',
      summary: `container ${c.name} keeps restarting: ${restarts}, up ${delta} from ${previous}; ${exit}`,
      facts: { ...facts, previousRestartCount: previous },
    };
  }
  return undefined;
}

function baseFacts(pod: KubePod, context: PodContext): Facts {
  const controller = controllerOf(pod.metadata);
  const owner = context.owner ?? (controller ? { kind: controller.kind, name: controller.name } : undefined);
  const claims = pod.persistentVolumeClaims;
  return clean({
    cluster: context.cluster,
    namespace: pod.metadata.namespace,
    pod: pod.metadata.name,
    ownerKind: owner?.kind ?? null,
    ownerName: owner?.name ?? null,
    ownerError: context.ownerError,
    // Runbooks must not casually restart these: their data or identity outlives the pod.
    stateful: controller?.kind === 'StatefulSet' || claims.length > 0,
    persistentVolumeClaims: claims.length > 0 ? [...claims] : undefined,
    node: pod.nodeName ?? null,
  });
}

/** Facts hold no `undefined`: drop those keys. */
function clean(facts: Record<string, FactValue | undefined>): Facts {
  const out: Facts = {};
  for (const [key, value] of Object.entries(facts)) if (value !== undefined) out[key] = value;
  return out;
}

function clip(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
