import type { HostPort } from '../checks/check.js';
import type { ReefConfig } from '../config/schema.js';
import { ReefError } from '../errors.js';

/** PLACEHOLDER: replaced by the SSH/local host adapter. */
export function createHostPort(_config: ReefConfig): HostPort & { close(): Promise<void> } {
  const missing = (): never => {
    throw new ReefError('reef_check_failed', 'host commands are not built yet');
  };
  return { exec: async () => missing(), stream: async () => missing(), close: async () => {} };
}
