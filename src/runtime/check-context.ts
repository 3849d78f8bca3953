import { InMemoryCheckMemory } from '../adapters/check-memory.js';
import type { Clock } from '../adapters/clock.js';
import { createHostPort } from '../adapters/hosts.js';
import { createHttpClient } from '../adapters/http-client.js';
import { lazyKubePort } from '../adapters/kube-lazy.js';
import { fetchPeerCertificate } from '../adapters/tls-client.js';
import type { CheckContext, CheckMemory } from '../checks/check.js';
import type { ReefConfig } from '../config/schema.js';

/**
 * The ports for one sweep: HTTP keep-alive pools, SSH connections (reused across the sweep's probes)
 * and Kubernetes clients. `close` releases them all.
 */
export function createCheckContext(
  config: ReefConfig,
  options: { clock: Clock; memory?: CheckMemory },
): { context: CheckContext; close(): Promise<void> } {
  const http = createHttpClient();
  const hosts = createHostPort(config);
  const kube = lazyKubePort(config);
  return {
    context: {
      clock: options.clock,
      http,
      tls: { fetchPeerCertificate },
      hosts,
      kube,
      memory: options.memory ?? new InMemoryCheckMemory(),
    },
    async close() {
      await Promise.allSettled([http.close(), hosts.close(), kube.close()]);
    },
  };
}
