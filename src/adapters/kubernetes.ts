import type { PodLogsPort } from '../checks/check.js';
import type { ReefConfig } from '../config/schema.js';
import { ReefError } from '../errors.js';

/** Kubernetes clusters by name (PLACEHOLDER: replaced by the Kubernetes adapter). */
export interface KubePort extends PodLogsPort {
  close(): Promise<void>;
}

export function createKubePort(_config: ReefConfig): KubePort {
  const missing = (): never => {
    throw new ReefError('reef_check_failed', 'Kubernetes support is not built yet');
  };
  return { podLogs: async () => missing(), close: async () => {} };
}
