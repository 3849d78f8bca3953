import path from 'node:path';
import { AuditLog } from '../audit/audit-log.js';
import type { Runtime } from '../runtime/runtime.js';
import { MemoryRepo } from './memory-repo.js';
import { NoticeBus } from './notices.js';

/** Where the memory repository and the quarantine live for this runtime (config paths are relative to the config file). */
export function memoryPaths(rt: Pick<Runtime, 'config' | 'loaded' | 'env'>): {
  dir: string;
  quarantineDir: string;
} {
  const base = path.dirname(rt.loaded.path);
  const dir = rt.config.memoryDir
    ? path.resolve(base, rt.config.memoryDir)
    : path.join(rt.env.dataDir, 'memory');
  const quarantineDir = rt.config.memory.quarantineDir
    ? path.resolve(base, rt.config.memory.quarantineDir)
    : path.join(rt.env.dataDir, 'quarantine');
  return { dir, quarantineDir };
}

/**
 * The memory repository of a Reef process, wired to the audit log, the notice stream (alerts) and the
 * shared Redis lock; undefined when `memory.enabled` is false.
 */
export function openMemory(
  rt: Pick<Runtime, 'config' | 'loaded' | 'env' | 'connection' | 'prefix' | 'clock'>,
  warn?: (message: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): MemoryRepo | undefined {
  if (!rt.config.memory.enabled) return undefined;
  const { dir, quarantineDir } = memoryPaths(rt);
  return new MemoryRepo({
    dir,
    quarantineDir,
    config: rt.config.memory,
    clock: rt.clock,
    env,
    audit: new AuditLog(rt.connection, rt.prefix, { dataDir: rt.env.dataDir, clock: rt.clock }),
    notices: new NoticeBus(rt.connection, rt.prefix),
    lock: { redis: rt.connection, key: `${rt.prefix}:memory:lock` },
    ...(warn ? { warn } : {}),
  });
}
