import type { Clock } from '../adapters/clock.js';
import type { HttpClient } from '../adapters/http-client.js';
import type { KubePort } from '../adapters/kubernetes.js';
import type { fetchPeerCertificate } from '../adapters/tls-client.js';
import type { ReefConfig } from '../config/schema.js';
import type { CheckKind, Finding } from '../findings/finding.js';

/** What a command on a host returned. */
export interface CommandResult {
  /** Exit code; null when the command was killed (timeout). */
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CommandOptions {
  /** Kill the command after this long (default: the host's timeout). */
  timeoutMs?: number;
  /** Keep at most this many bytes of stdout (the rest is discarded, not buffered). */
  maxBytes?: number;
}

/**
 * Runs commands on the hosts named in `hosts:` (over SSH, through bastions, or locally). Commands are
 * argv arrays: every element is passed quoted, so a value from a finding never reaches a shell as code.
 * Connections are reused within a sweep and closed with the context.
 */
export interface HostPort {
  exec(host: string, argv: readonly string[], options?: CommandOptions): Promise<CommandResult>;
  /** Like `exec`, but hands stdout over in chunks as it arrives (large files, bounded memory). */
  stream(
    host: string,
    argv: readonly string[],
    onStdout: (chunk: Buffer) => void,
    options?: CommandOptions,
  ): Promise<Omit<CommandResult, 'stdout'>>;
}

/** Pod logs, for the errorLogs check (implemented by the Kubernetes adapter). */
export interface PodLogsPort {
  /** The logs since `sinceSeconds` of every pod matching `selector` in `namespace`. */
  podLogs(
    cluster: string,
    namespace: string,
    selector: string,
    options: {
      sinceSeconds: number;
      container?: string;
      limitBytes?: number;
      /** Prefix every line with the time Kubernetes received it (RFC 3339), for logs without their own. */
      timestamps?: boolean;
    },
  ): Promise<{ pod: string; text: string }[]>;
}

/** Small state that survives between sweeps (Redis in a worker, memory for `reef check --once`). */
export interface CheckMemory {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
}

/** The ports a check may use. Tests hand in the real adapters pointed at loopback servers. */
export interface CheckContext {
  clock: Clock;
  http: HttpClient;
  tls: { fetchPeerCertificate: typeof fetchPeerCertificate };
  hosts: HostPort;
  kube: KubePort;
  memory: CheckMemory;
}

/**
 * One kind of health check. `probe` returns at least one finding for a target it could examine
 * (an `ok` one when healthy); it throws only when the check itself could not do its job, which the
 * sweep reports as a check error, distinct from an unhealthy target.
 */
export interface Check<Target> {
  readonly kind: CheckKind;
  /** The configured targets of this kind. */
  targets(config: ReefConfig): readonly Target[];
  /** The name that identifies a target (its probe) in errors, incidents and `reef check <target>`. */
  nameOf(target: Target): string;
  probe(target: Target, context: CheckContext): Promise<Finding[]>;
}
