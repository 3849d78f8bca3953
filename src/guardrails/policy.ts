import path from 'node:path';
import type { StepExecutor } from '../executors/executor.js';
import { EXECUTORS } from '../executors/registry.js';
import type { Facts } from '../findings/finding.js';
import type { Runbook } from '../runbooks/runbook.js';

export const POLICY_CODES = [
  'unknown_step',
  'forbidden_kind',
  'forbidden_command',
  'stateful_target',
  'dry_run',
] as const;
/** Why the policy refused: stable, for audits, tests and the execution's final state. */
export type PolicyCode = (typeof POLICY_CODES)[number];

export type PolicyResult = { allowed: true } | { allowed: false; code: PolicyCode; reason: string };

/** A step as the policy sees it: the runbook's (templates in place) or rendered. */
export interface PolicyStep {
  type: string;
  params: unknown;
}

export interface PolicyInput {
  runbook: Runbook;
  /** The finding's (or incident's) facts: `stateful`, `ownerKind`, `persistentVolumeClaims`. */
  facts: Facts;
  /** `REEF_DRY_RUN` (see `readEnv`). */
  dryRun: boolean;
  /** The steps as rendered for this incident; a templated `kind` is only known after rendering. */
  rendered?: readonly PolicyStep[];
  executors?: Readonly<Record<string, StepExecutor<unknown>>>;
}

/** Kubernetes kinds no runbook may delete or edit, with their plural and short names, lower case. */
const FORBIDDEN_KINDS = new Map<string, string>(
  [
    ['Namespace', ['namespace', 'namespaces', 'ns']],
    ['Deployment', ['deployment', 'deployments', 'deploy', 'deployment.apps', 'deployments.apps']],
    ['StatefulSet', ['statefulset', 'statefulsets', 'sts', 'statefulset.apps', 'statefulsets.apps']],
  ].flatMap(([kind, names]) => (names as string[]).map((n) => [n, kind as string])),
);

/** kubectl verbs that only read: naming a forbidden kind with these is fine. */
const READ_ONLY_VERBS = new Set([
  'get',
  'describe',
  'logs',
  'top',
  'explain',
  'api-resources',
  'events',
  'wait',
]);
/** Flags whose value is the next argument and is not a resource type (`-n kube-system`). */
const VALUE_FLAGS = new Set([
  '-n',
  '--namespace',
  '--context',
  '--cluster',
  '--kubeconfig',
  '-l',
  '--selector',
  '-o',
  '--output',
  '-c',
  '--container',
]);

/**
 * The guardrails that hold whatever a runbook says, as a pure function (the loader enforces most of
 * this already; this is the second, independent check right before a run). In order, first refusal
 * wins:
 * 1. every step type is in the closed action list (`EXECUTORS`);
 * 2. no step deletes a namespace or edits a Deployment or StatefulSet: a `kubernetes.*` step whose type
 *    or params name one of those kinds, or a declared `kubectl`/`oc` command that mutates them (or
 *    applies manifests it cannot inspect);
 * 3. a stateful target (owned by a StatefulSet, or with persistent volumes) only with `stateful: true`;
 * 4. under `REEF_DRY_RUN`, nothing runs: the steps are only described. Checked last, so a dry run
 *    still reports what would really be refused.
 */
export function checkPolicy(input: PolicyInput): PolicyResult {
  const { runbook } = input;
  const executors = input.executors ?? EXECUTORS;
  const steps = [...runbook.steps, ...(input.rendered ?? [])];
  for (const step of steps) {
    if (!Object.hasOwn(executors, step.type)) {
      return refuse(
        'unknown_step',
        `runbook ${runbook.id}: step type "${step.type}" is not in the action list of this Reef`,
      );
    }
  }
  for (const step of steps) {
    const kind = forbiddenKindOf(step);
    if (kind) {
      return refuse(
        'forbidden_kind',
        `runbook ${runbook.id}: step ${step.type} would act on a ${kind}; Reef never deletes namespaces or edits Deployments or StatefulSets`,
      );
    }
  }
  for (const [name, argv] of Object.entries(runbook.commands)) {
    const why = forbiddenCommand(argv);
    if (why) return refuse('forbidden_command', `runbook ${runbook.id}: command ${name} ${why}`);
  }
  const stateful = statefulReasons(input.facts);
  if (stateful.length > 0 && !runbook.stateful) {
    return refuse(
      'stateful_target',
      `runbook ${runbook.id} does not say stateful: true, and the target is stateful (${stateful.join('; ')}): its data or identity outlives the pod`,
    );
  }
  if (input.dryRun) {
    return refuse('dry_run', 'REEF_DRY_RUN is set: steps are only described, nothing runs');
  }
  return { allowed: true };
}

function refuse(code: PolicyCode, reason: string): PolicyResult {
  return { allowed: false, code, reason };
}

/** The forbidden kind a `kubernetes.*` step names in its type (`kubernetes.deleteNamespace`) or params. */
function forbiddenKindOf(step: PolicyStep): string | undefined {
  if (!step.type.startsWith('kubernetes.')) return undefined;
  const verb = step.type.slice('kubernetes.'.length).toLowerCase();
  for (const kind of ['Namespace', 'Deployment', 'StatefulSet']) {
    if (verb.includes(kind.toLowerCase())) return kind;
  }
  return kindInParams(step.params);
}

/** Any `kind` / `resource` field, at any depth, naming a forbidden kind. */
function kindInParams(value: unknown): string | undefined {
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = kindInParams(item);
      if (found) return found;
    }
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, inner] of Object.entries(value)) {
    if (/^(kind|resource|resourceType)$/i.test(key) && typeof inner === 'string') {
      const kind = FORBIDDEN_KINDS.get(inner.trim().toLowerCase());
      if (kind) return kind;
    }
    const found = kindInParams(inner);
    if (found) return found;
  }
  return undefined;
}

/**
 * Why a declared command may not run, for `kubectl` and `oc`: a mutating verb on a forbidden kind
 * (`kubectl delete ns x`, `kubectl rollout restart deploy/web`), or a manifest apply whose kinds
 * cannot be seen here (Kubernetes changes go through typed steps).
 */
function forbiddenCommand(argv: readonly string[]): string | undefined {
  const program = argv[0] === undefined ? '' : path.basename(argv[0]);
  if (program !== 'kubectl' && program !== 'oc') return undefined;
  const positional: string[] = [];
  let manifest = false;
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i]!;
    if (VALUE_FLAGS.has(arg)) {
      i++;
      continue;
    }
    if (/^(-f|--filename|-k|--kustomize)(=|$)/.test(arg)) manifest = true;
    if (!arg.startsWith('-')) positional.push(arg.toLowerCase());
  }
  const verb = positional[0];
  if (verb === undefined || READ_ONLY_VERBS.has(verb)) return undefined;
  if (manifest) {
    return `runs "${program} ${verb}" on manifests whose kinds cannot be checked; use a typed kubernetes.* step`;
  }
  for (const arg of positional.slice(1)) {
    // `deploy/web`, `ns,pods`, `deployments.apps`
    for (const part of arg.split(',')) {
      const kind = FORBIDDEN_KINDS.get(part.split('/')[0]!);
      if (kind)
        return `would ${verb} a ${kind} (${argv.join(' ')}); Reef never deletes namespaces or edits Deployments or StatefulSets`;
    }
  }
  return undefined;
}

/** Why the finding's target is stateful; several facts say so, any one is enough. */
function statefulReasons(facts: Facts): string[] {
  const reasons: string[] = [];
  if (facts.stateful === true) reasons.push('facts.stateful is true');
  if (facts.ownerKind === 'StatefulSet')
    reasons.push(`owned by StatefulSet ${String(facts.ownerName ?? '')}`.trim());
  const claims = facts.persistentVolumeClaims;
  if (Array.isArray(claims) && claims.length > 0)
    reasons.push(`mounts PersistentVolumeClaim ${claims.join(', ')}`);
  return reasons;
}
