import type { z } from 'zod';
import type { Clock } from '../adapters/clock.js';
import type { KubePort } from '../adapters/kubernetes.js';
import type { HostPort } from '../checks/check.js';
import type { HostConfig } from '../config/schema.js';

/**
 * What a runbook declares that bounds its steps: the commands `ssh.exec` may run, the directories
 * `files.*` may touch, where its playbooks and working directories live.
 */
export interface RunbookBounds {
  /** Runbook id, for messages and audit. */
  id: string;
  /** Absolute path of the runbook file's folder (playbooks and Terraform directories are relative to it). */
  dir: string;
  /** Named argv templates `ssh.exec` may run: `{ journal-vacuum: ["journalctl", "--vacuum-size={{size}}"] }`. */
  commands: Readonly<Record<string, readonly string[]>>;
  /** Absolute directories `files.rotateLogs` / `files.cleanup` may act under (after resolving `..`). */
  roots: readonly string[];
  /** Whether a failed mutating step may be retried. */
  idempotent: boolean;
  /**
   * `stateful: true` in the runbook: it may delete or evict pods owned by a StatefulSet or mounting a
   * PersistentVolumeClaim. Without it `kubernetes.deletePod` refuses them.
   */
  stateful: boolean;
}

/** Where a step runs and what it may use. Executors receive ports, never import vendor SDKs. */
export interface StepContext {
  hosts: HostPort;
  /**
   * A host's entry under `hosts:` in reef.yaml, for executors that hand the host to another tool instead
   * of going through `hosts` (`ansible.playbook` builds its inventory and ssh config from it).
   */
  hostConfig?(name: string): HostConfig | undefined;
  kube: KubePort;
  clock: Clock;
  runbook: RunbookBounds;
  /** `REEF_DRY_RUN=1`: steps only describe. Executors never see dryRun=true in execute(). */
  signal: AbortSignal;
  /** A line of progress for the incident's thread (bounded by the caller). */
  log(line: string): void;
}

export interface StepResult {
  ok: boolean;
  /** Human summary: "evicted apps/web-7d9f (PDB respected)", "freed 4.1 GB under /var/log". */
  summary: string;
  /** Bounded output (stdout/stderr excerpts, API responses) for the audit and the thread. */
  output?: string;
  /**
   * Machine-readable results (bytes freed, new certificate expiry, plan summary). `changed: false` says
   * the step found nothing to do (certbot: not due), so a runbook's message about what the run did is
   * not said.
   */
  data?: Record<string, unknown>;
}

/**
 * One kind of step a runbook may use. The registry of executors IS the closed action list: a runbook
 * naming anything else does not load. `params` arrive already rendered from templates; `schema` validates
 * them (Kubernetes names, paths, argv elements) before `describe` or `execute` ever sees them.
 */
export interface StepExecutor<Params> {
  readonly type: string;
  readonly schema: z.ZodType<Params>;
  /** Changes something (as opposed to reading or waiting). Mutating steps are rate-limited and never blindly retried. */
  readonly mutates: boolean;
  /** Checks against the runbook's bounds that a schema cannot express (roots, command allowlist); throws a clear Error. */
  check?(params: Params, runbook: RunbookBounds): void;
  /** The exact API call or argv it will run, for previews, plans and dry runs. */
  describe(params: Params, runbook: RunbookBounds): string;
  execute(params: Params, context: StepContext): Promise<StepResult>;
}
