/**
 * Two Redis counters on the turn path:
 * - a per-user token bucket over messages (every human message costs one token; the bucket refills at
 *   RATE_LIMIT_PER_MINUTE up to RATE_LIMIT_BURST). Hand-written Lua, a dozen lines, rather than a library: none is
 *   installed, the bucket must be atomic across workers, and it uses Redis' clock so workers' clocks never matter.
 * - the bot-loop guard: replies per conversation per minute (fixed one-minute windows), so two bots that answer
 *   each other (when *_ALLOW_BOTS lets bots in) stop after a bounded number of rounds.
 */
import type { Redis } from 'ioredis';
import type { AccessKeys } from './policy.js';

const TAKE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local perMs = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1]) or burst
local at = tonumber(b[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * perMs)
local ok = 0
if tokens >= cost then
  tokens = tokens - cost
  ok = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / perMs) + 1000)
return ok`;

export interface RateLimitSettings {
  perMinute: number;
  burst: number;
}

/** Take `cost` tokens from this user's bucket; false (and nothing taken) when there are not enough. */
export async function takeTokens(redis: Redis, keys: AccessKeys, principal: string, cost: number, s: RateLimitSettings): Promise<boolean> {
  if (s.perMinute <= 0 || cost <= 0) return true;
  const ok = await redis.eval(TAKE, 1, keys.bucket(principal), s.perMinute / 60_000, s.burst, cost);
  return ok === 1;
}

/** The polite refusal goes out once per minute per user; further refused batches are consumed quietly. */
export async function claimRateNotice(redis: Redis, keys: AccessKeys, principal: string): Promise<boolean> {
  return (await redis.set(keys.rateNotice(principal), '1', 'EX', 60, 'NX')) === 'OK';
}

/** Count one reply in this conversation's current minute; false once the cap is passed. */
export async function allowReply(redis: Redis, keys: AccessKeys, conversationKey: string, maxPerMinute: number, now = Date.now()): Promise<boolean> {
  if (maxPerMinute <= 0) return true;
  const key = keys.loop(conversationKey, Math.floor(now / 60_000));
  const [[, n]] = (await redis.multi().incr(key).expire(key, 120).exec()) as [[unknown, number], unknown];
  return n <= maxPerMinute;
}
