import path from 'node:path';
import type { Redis } from 'ioredis';
import { type Clock, systemClock } from '../adapters/clock.js';
import { type RedisHandle, resolveRedis } from '../adapters/redis.js';
import { type LoadedConfig, loadConfig } from '../config/load.js';
import type { ReefConfig } from '../config/schema.js';
import { type ReefEnv, readEnv } from '../env.js';
import { EventBus } from '../events/event-bus.js';
import { IncidentStore } from '../incidents/store.js';
import { IncidentTracker } from '../incidents/tracker.js';

/** Everything a Reef process shares: config, Redis, the incident store and the event bus. */
export interface Runtime {
  config: ReefConfig;
  loaded: LoadedConfig;
  env: ReefEnv;
  clock: Clock;
  redis: RedisHandle;
  /** The shared non-blocking connection. */
  connection: Redis;
  prefix: string;
  store: IncidentStore;
  tracker: IncidentTracker;
  bus: EventBus;
  close(): Promise<void>;
}

export interface OpenRuntimeOptions {
  configFlag?: string | undefined;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Only `reef start` may start a private redis-server. */
  mayStartPrivateRedis?: boolean;
  clock?: Clock;
  log?: (message: string) => void;
}

/** Loads and validates the config first (nothing starts on a bad one), then connects to Redis. */
export async function openRuntime(options: OpenRuntimeOptions = {}): Promise<Runtime> {
  const envVars = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const loaded = loadConfig(options.configFlag, envVars, cwd);
  const env = readEnv(envVars, cwd);
  const config = loaded.config;
  // REEF_DATA_DIR wins over the file, as environment settings do everywhere else.
  if (config.dataDir && !envVars.REEF_DATA_DIR)
    env.dataDir = path.resolve(path.dirname(loaded.path), config.dataDir);
  const redis = await resolveRedis({
    url: env.redisUrl,
    explicit: env.redisUrlExplicit,
    sentinel: env.redisSentinel,
    password: env.redisPassword,
    dataDir: env.dataDir,
    mayStartPrivate: options.mayStartPrivateRedis ?? false,
    log: options.log,
  });
  const connection = redis.connect();
  connection.on('error', () => {});
  const clock = options.clock ?? systemClock;
  const prefix = config.redis.prefix;
  const store = new IncidentStore(connection, prefix);
  return {
    config,
    loaded,
    env,
    clock,
    redis,
    connection,
    prefix,
    store,
    tracker: new IncidentTracker(store, clock),
    bus: new EventBus(connection, prefix),
    async close() {
      await connection.quit().catch(() => connection.disconnect());
      await redis.stop();
    },
  };
}
