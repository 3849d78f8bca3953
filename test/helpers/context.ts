import { systemClock } from '../../src/adapters/clock.js';
import type { HttpClient } from '../../src/adapters/http-client.js';
import type { CheckContext } from '../../src/checks/check.js';
import { configSchema, type ReefConfigInput } from '../../src/config/schema.js';
import { createCheckContext } from '../../src/runtime/check-context.js';

/**
 * The real check context Reef builds for a sweep (real adapters), with the HTTP port optionally
 * replaced, for tests that need to make one adapter fail. Call `close()` when done.
 */
export function testContext(
  options: { config?: ReefConfigInput; http?: HttpClient } = {},
): CheckContext & { close(): Promise<void> } {
  const built = createCheckContext(configSchema.parse(options.config ?? {}), { clock: systemClock });
  return { ...built.context, ...(options.http ? { http: options.http } : {}), close: built.close };
}
