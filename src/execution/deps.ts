import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { becomeHostPort } from '../adapters/become.js';
import type { Clock } from '../adapters/clock.js';
import { createHostPort } from '../adapters/hosts.js';
import { lazyKubePort } from '../adapters/kube-lazy.js';
import type { KubePort } from '../adapters/kubernetes.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { HostPort } from '../checks/check.js';
import type { ReefConfig } from '../config/schema.js';
import type { DiagnoseStep } from '../diagnosis/step.js';
import type { EventBus } from '../events/event-bus.js';
import type { StepExecutor } from '../executors/executor.js';
import type { IncidentStore } from '../incidents/store.js';
import type { IncidentTracker } from '../incidents/tracker.js';
import type { Catalog } from '../runbooks/catalog.js';
import type { ExecutionJobData } from './queue.js';

/** The ports a run's steps use; closed when the run ends. */
export interface StepPorts {
  hosts: HostPort;
  kube: KubePort;
  close(): Promise<void>;
}

/** Everything the execution and verification processors need; built once per worker. */
export interface ExecutionDeps {
  config: ReefConfig;
  clock: Clock;
  store: IncidentStore;
  tracker: IncidentTracker;
  bus: EventBus;
  audit: AuditLog;
  catalog: Catalog;
  redis: Redis;
  prefix: string;
  /** `REEF_DRY_RUN`: steps are described, never executed. */
  dryRun: boolean;
  /** Where verification jobs go. */
  queue: Queue<ExecutionJobData>;
  /** Default: the real host and Kubernetes ports built from the config, per run. */
  ports?: () => StepPorts;
  executors?: Readonly<Record<string, StepExecutor<unknown>>>;
  /** The diagnosis step, run again when a run or its verification fails (see `escalate`). */
  diagnose?: DiagnoseStep;
  /** Target lock lease (renewed while the steps run); default 60 s. */
  lockTtlMs?: number;
}

export function defaultPorts(config: ReefConfig): StepPorts {
  // Steps on `become: true` hosts run through sudo (checks use their own, unprivileged port).
  const hosts = becomeHostPort(createHostPort(config), config);
  const kube = lazyKubePort(config);
  return {
    hosts,
    kube,
    async close() {
      await Promise.allSettled([hosts.close(), kube.close()]);
    },
  };
}
