/**
 * Per-key token bucket in Redis, shared by every gateway replica: the gateway's one token-bucket script
 * (src/core/scripts/token-bucket.lua, also the access module's per-user bucket) rather than a library
 * (rate-limiter-flexible is not a dependency): one atomic read-refill-take, with the clock from Redis `TIME` so
 * replicas with skewed clocks agree. Returns 0 when the request may proceed, else the wait in milliseconds.
 */
import type { Redis } from 'ioredis';
import { runScript } from '../core/scripts.js';

export interface RateLimit {
  /** Sustained rate. */
  perMinute: number;
  /** Bucket size: requests allowed at once after a quiet period. */
  burst: number;
}

export async function takeToken(redis: Redis, key: string, limit: RateLimit): Promise<number> {
  const perMs = limit.perMinute / 60_000;
  return runScript<number>(redis, 'token-bucket', [key], [perMs, limit.burst]);
}
