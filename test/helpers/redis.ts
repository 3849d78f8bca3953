import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import { deleteKeysUnder } from '../../src/adapters/redis.js';

export function redisUrl(): string {
  return inject('redisUrl');
}

/** A fresh key prefix per test, so tests never see each other's queues or incidents. */
export function uniquePrefix(label = 't'): string {
  return `reeftest-${label}-${randomBytes(4).toString('hex')}`;
}

export function connect(): Redis {
  return new Redis(redisUrl(), { maxRetriesPerRequest: null });
}

/** Deletes every key under the prefix (BullMQ's and Reef's). */
export const dropPrefix = deleteKeysUnder;
