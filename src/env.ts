import { existsSync } from 'node:fs';
import path from 'node:path';
import type { SentinelEnv } from './adapters/redis-sentinel.js';

/**
 * Everything Reef reads from the environment, read in one pure function so tests inject their own.
 * Secrets (Slack and Anthropic tokens) only ever come from here, never from reef.yaml.
 */
export interface ReefEnv {
  redisUrl: string;
  /** True when REDIS_URL was set explicitly (then Reef never starts a private Redis in its place). */
  redisUrlExplicit: boolean;
  /**
   * REDIS_SENTINELS, REDIS_SENTINEL_NAME and REDIS_SENTINEL_PASSWORD as set (undefined when none is);
   * validated when Redis is opened (`resolveRedis`), so commands that need no Redis never fail on them.
   */
  redisSentinel: SentinelEnv | undefined;
  /** REDIS_PASSWORD: the Redis servers' password when REDIS_URL (or the Sentinel set-up) carries none. */
  redisPassword: string | undefined;
  configPath: string | undefined;
  dataDir: string;
  httpPort: number;
  logLevel: string;
  slackBotToken: string | undefined;
  /** `REEF_DRY_RUN` is 1, true or yes: runbook steps are only described, nothing runs. */
  dryRun: boolean;
}

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

export function readEnv(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): ReefEnv {
  const port = Number(env.REEF_HTTP_PORT || 3000);
  return {
    redisUrl: env.REDIS_URL || DEFAULT_REDIS_URL,
    redisUrlExplicit: Boolean(env.REDIS_URL),
    redisSentinel:
      env.REDIS_SENTINELS || env.REDIS_SENTINEL_NAME || env.REDIS_SENTINEL_PASSWORD
        ? {
            sentinels: env.REDIS_SENTINELS || undefined,
            name: env.REDIS_SENTINEL_NAME || undefined,
            sentinelPassword: env.REDIS_SENTINEL_PASSWORD || undefined,
          }
        : undefined,
    redisPassword: env.REDIS_PASSWORD || undefined,
    configPath: env.REEF_CONFIG || undefined,
    dataDir: path.resolve(cwd, env.REEF_DATA_DIR || '.reef'),
    httpPort: Number.isInteger(port) && port >= 0 && port < 65536 ? port : 3000,
    logLevel: env.LOG_LEVEL || 'info',
    slackBotToken: env.SLACK_BOT_TOKEN || undefined,
    dryRun: /^(1|true|yes)$/i.test((env.REEF_DRY_RUN ?? '').trim()),
  };
}

/** Loads `./.env` into `process.env` when present (variables already set win). */
export function loadDotEnv(cwd: string = process.cwd()): void {
  const file = path.join(cwd, '.env');
  if (existsSync(file)) process.loadEnvFile(file);
}
