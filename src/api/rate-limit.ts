/**
 * Per-key token bucket in Redis, shared by every gateway replica. A small Lua script rather than a library
 * (rate-limiter-flexible is not a dependency): one atomic read-refill-take, with the clock from Redis `TIME` so
 * replicas with skewed clocks agree. Returns 0 when the request may proceed, else the wait in milliseconds.
 */
import type { Redis } from 'ioredis';

const TAKE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cap = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(b[1]) or cap
local ts = tonumber(b[2]) or now
tokens = math.min(cap, tokens + math.max(0, now - ts) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) / rate) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(cap / rate) + 1000)
return wait`;

export interface RateLimit {
  /** Sustained rate. */
  perMinute: number;
  /** Bucket size: requests allowed at once after a quiet period. */
  burst: number;
}

export async function takeToken(redis: Redis, key: string, limit: RateLimit): Promise<number> {
  const perMs = limit.perMinute / 60_000;
  return (await redis.eval(TAKE, 1, key, limit.burst, perMs)) as number;
}
