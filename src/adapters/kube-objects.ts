/**
 * Reef's own view of the Kubernetes objects it reads: the few fields checks and runbooks use, as plain
 * data with ISO-8601 timestamps. The Kubernetes adapter converts both shapes the client library hands
 * out (deserialized list items with `Date` fields, raw JSON from watch streams) into these, so nothing
 * past the adapter depends on the vendor SDK.
 */

export interface KubeOwnerRef {
  kind: string;
  name: string;
  /** The managing controller (at most one owner per object has it). */
  controller: boolean;
}

export interface KubeMeta {
  name: string;
  namespace: string;
  uid: string;
  resourceVersion: string;
  creationTimestamp: string | undefined;
  deletionTimestamp: string | undefined;
  labels: Readonly<Record<string, string>>;
  ownerReferences: readonly KubeOwnerRef[];
}

export interface KubeContainerTermination {
  reason: string | undefined;
  exitCode: number | undefined;
  finishedAt: string | undefined;
  message: string | undefined;
}

export interface KubeContainerState {
  waiting?: { reason: string | undefined; message: string | undefined };
  running?: { startedAt: string | undefined };
  terminated?: KubeContainerTermination;
}

export interface KubeContainerStatus {
  name: string;
  /** Init containers are reported like the others; a failing one blocks the pod just the same. */
  init: boolean;
  image: string | undefined;
  ready: boolean;
  restartCount: number;
  state: KubeContainerState;
  lastState: KubeContainerState;
}

export interface KubePodCondition {
  type: string;
  status: string;
  reason: string | undefined;
  message: string | undefined;
  lastTransitionTime: string | undefined;
}

export interface KubePod {
  metadata: KubeMeta;
  nodeName: string | undefined;
  /** Claim names of the PersistentVolumeClaims the pod mounts. */
  persistentVolumeClaims: readonly string[];
  phase: string | undefined;
  reason: string | undefined;
  message: string | undefined;
  startTime: string | undefined;
  conditions: readonly KubePodCondition[];
  containerStatuses: readonly KubeContainerStatus[];
}

/** A namespaced object reduced to its metadata (ReplicaSets, for resolving a pod's Deployment). */
export interface KubeObject {
  kind: string;
  metadata: KubeMeta;
}

/**
 * A ReplicaSet as a rollout: Deployments create one per revision, so its creation time is when that
 * revision rolled out (the Nightly Brainstorm matches error-rate and restart changes to it).
 */
export interface KubeReplicaSet {
  metadata: KubeMeta;
  /** `deployment.kubernetes.io/revision`, when a Deployment manages it. */
  revision: string | undefined;
  /** The managing Deployment's name, if any. */
  deployment: string | undefined;
  /** Labels of the pods it creates (its template's). */
  podLabels: Readonly<Record<string, string>>;
  replicas: number;
}

/**
 * A Secret as Reef handles it: its type and its data, base64 as on the wire. Values may be private keys:
 * never log or echo them.
 */
export interface KubeSecret {
  metadata: KubeMeta;
  type: string;
  /** `immutable: true` Secrets refuse any change of data. */
  immutable: boolean;
  data: Readonly<Record<string, string>>;
}

export type PodWatchEvent =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; pod: KubePod }
  | { type: 'BOOKMARK'; resourceVersion: string };

type Loose = Record<string, unknown>;

export function toKubeMeta(raw: unknown): KubeMeta {
  const m = record(raw);
  return {
    name: str(m.name) ?? '',
    namespace: str(m.namespace) ?? '',
    uid: str(m.uid) ?? '',
    resourceVersion: str(m.resourceVersion) ?? '',
    creationTimestamp: time(m.creationTimestamp),
    deletionTimestamp: time(m.deletionTimestamp),
    labels: Object.fromEntries(
      Object.entries(record(m.labels)).filter((e): e is [string, string] => typeof e[1] === 'string'),
    ),
    ownerReferences: list(m.ownerReferences).map((o) => {
      const r = record(o);
      return { kind: str(r.kind) ?? '', name: str(r.name) ?? '', controller: r.controller === true };
    }),
  };
}

export function toKubePod(raw: unknown): KubePod {
  const pod = record(raw);
  const spec = record(pod.spec);
  const status = record(pod.status);
  const containers = (items: unknown, init: boolean) =>
    list(items).map((c): KubeContainerStatus => {
      const r = record(c);
      return {
        name: str(r.name) ?? '',
        init,
        image: str(r.image),
        ready: r.ready === true,
        restartCount: num(r.restartCount) ?? 0,
        state: toState(r.state),
        lastState: toState(r.lastState),
      };
    });
  return {
    metadata: toKubeMeta(pod.metadata),
    nodeName: str(spec.nodeName),
    persistentVolumeClaims: list(spec.volumes).flatMap((v) => {
      const claim = str(record(record(v).persistentVolumeClaim).claimName);
      return claim === undefined ? [] : [claim];
    }),
    phase: str(status.phase),
    reason: str(status.reason),
    message: str(status.message),
    startTime: time(status.startTime),
    conditions: list(status.conditions).map((c) => {
      const r = record(c);
      return {
        type: str(r.type) ?? '',
        status: str(r.status) ?? '',
        reason: str(r.reason),
        message: str(r.message),
        lastTransitionTime: time(r.lastTransitionTime),
      };
    }),
    containerStatuses: [
      ...containers(status.initContainerStatuses, true),
      ...containers(status.containerStatuses, false),
    ],
  };
}

export function toKubeObject(raw: unknown, kind: string): KubeObject {
  return { kind: str(record(raw).kind) ?? kind, metadata: toKubeMeta(record(raw).metadata) };
}

/** A Kubernetes Event, as the diagnosis reads it (core/v1: lastTimestamp, or eventTime for new ones). */
export interface KubeEvent {
  type: string;
  reason: string;
  message: string;
  count: number;
  /** ISO-8601, or '' when the event carries no time. */
  lastSeen: string;
  involved: { kind: string; name: string };
}

export function toKubeEvent(raw: unknown): KubeEvent {
  const e = record(raw);
  const involved = record(e.involvedObject);
  const time = (value: unknown) =>
    value instanceof Date ? value.toISOString() : typeof value === 'string' ? value : '';
  return {
    type: str(e.type) ?? '',
    reason: str(e.reason) ?? '',
    message: str(e.message) ?? '',
    count: num(e.count) ?? 1,
    lastSeen: time(e.lastTimestamp) || time(e.eventTime) || time(record(e.metadata).creationTimestamp),
    involved: { kind: str(involved.kind) ?? '', name: str(involved.name) ?? '' },
  };
}

export function toKubeReplicaSet(raw: unknown): KubeReplicaSet {
  const rs = record(raw);
  const m = record(rs.metadata);
  const metadata = toKubeMeta(m);
  const owner = controllerOf(metadata);
  const template = record(record(rs.spec).template);
  const revision = record(m.annotations)['deployment.kubernetes.io/revision'];
  return {
    metadata,
    revision: str(revision),
    deployment: owner?.kind === 'Deployment' ? owner.name : undefined,
    podLabels: Object.fromEntries(
      Object.entries(record(record(template.metadata).labels)).filter(
        (e): e is [string, string] => typeof e[1] === 'string',
      ),
    ),
    replicas: num(record(rs.spec).replicas) ?? 0,
  };
}

export function toKubeSecret(raw: unknown): KubeSecret {
  const secret = record(raw);
  return {
    metadata: toKubeMeta(secret.metadata),
    // The API defaults an omitted type to Opaque.
    type: str(secret.type) ?? 'Opaque',
    immutable: secret.immutable === true,
    data: Object.fromEntries(
      Object.entries(record(secret.data)).filter((e): e is [string, string] => typeof e[1] === 'string'),
    ),
  };
}

/** The owner that manages the object (a ReplicaSet, StatefulSet, DaemonSet, Job, …), if any. */
export function controllerOf(meta: KubeMeta): KubeOwnerRef | undefined {
  return meta.ownerReferences.find((o) => o.controller) ?? meta.ownerReferences[0];
}

function toState(raw: unknown): KubeContainerState {
  const s = record(raw);
  const state: KubeContainerState = {};
  if (s.waiting) {
    const w = record(s.waiting);
    state.waiting = { reason: str(w.reason), message: str(w.message) };
  }
  if (s.running) state.running = { startedAt: time(record(s.running).startedAt) };
  if (s.terminated) {
    const t = record(s.terminated);
    state.terminated = {
      reason: str(t.reason),
      exitCode: num(t.exitCode),
      finishedAt: time(t.finishedAt),
      message: str(t.message),
    };
  }
  return state;
}

function record(value: unknown): Loose {
  return typeof value === 'object' && value !== null ? (value as Loose) : {};
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** The library deserializes timestamps into `Date`; watch events carry the wire's strings. */
function time(value: unknown): string | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.toISOString();
  return typeof value === 'string' ? value : undefined;
}
