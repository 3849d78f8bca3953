import type { Clock } from '../adapters/clock.js';
import type { HttpClient } from '../adapters/http-client.js';
import type { fetchPeerCertificate } from '../adapters/tls-client.js';
import type { ReefConfig } from '../config/schema.js';
import type { CheckKind, Finding } from '../findings/finding.js';

/** The ports a check may use. Tests hand in the real adapters pointed at loopback servers. */
export interface CheckContext {
  clock: Clock;
  http: HttpClient;
  tls: { fetchPeerCertificate: typeof fetchPeerCertificate };
}

/**
 * One kind of health check. `probe` returns at least one finding for a target it could examine
 * (an `ok` one when healthy); it throws only when the check itself could not do its job, which the
 * sweep reports as a check error, distinct from an unhealthy target.
 */
export interface Check<Target extends { name: string }> {
  readonly kind: CheckKind;
  /** The configured targets of this kind. */
  targets(config: ReefConfig): readonly Target[];
  probe(target: Target, context: CheckContext): Promise<Finding[]>;
}
