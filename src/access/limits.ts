/**
 * Two Redis counters on the turn path:
 * - a per-user token bucket over messages (every human message costs one token; the bucket refills at
 *   RATE_LIMIT_PER_MINUTE up to RATE_LIMIT_BURST). Hand-written Lua, a dozen lines, rather than a library: none is
 *   installed, the bucket must be atomic across workers, and it uses Redis' clock so workers' clocks never matter.
 *   A message is charged once, whatever happens to its turn: a turn that is deferred (pause, a later hook) or
 *   re-run after a crash (BullMQ is at-least-once) sees the same message ids again and pays only for new ones.
 * - the bot-loop guard: replies per conversation per minute (fixed one-minute windows), so two bots that answer
 *   each other (when *_ALLOW_BOTS lets bots in) stop after a bounded number of rounds.
 */
import type { Redis } from 'ioredis';
import type { AccessKeys } from './policy.js';

// KEYS: bucket, charged-ids zset. ARGV: tokens per ms, burst, message ids...
const TAKE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local perMs = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local fresh = {}
for i = 3, #ARGV do
  if not redis.call('ZSCORE', KEYS[2], ARGV[i]) then fresh[#fresh + 1] = ARGV[i] end
end
if #fresh == 0 then return 1 end
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1]) or burst
local at = tonumber(b[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * perMs)
local ok = 0
if tokens >= #fresh then
  tokens = tokens - #fresh
  ok = 1
  for _, id in ipairs(fresh) do redis.call('ZADD', KEYS[2], now, id) end
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / perMs) + 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - 3600000)
redis.call('PEXPIRE', KEYS[2], 3600000)
return ok`;

// KEYS: this minute's counter, the turn's marker. Counts a turn once however often it is attempted.
const COUNT_REPLY = `
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', 120) then
  local n = redis.call('INCR', KEYS[1])
  redis.call('EXPIRE', KEYS[1], 120)
  return n
end
return tonumber(redis.call('GET', KEYS[1]) or '0')`;

export interface RateLimitSettings {
  perMinute: number;
  burst: number;
}

/**
 * Take one token per message not charged before from this user's bucket; false (and nothing taken) when there
 * are not enough for all of them.
 */
export async function takeTokens(redis: Redis, keys: AccessKeys, principal: string, messageIds: string[], s: RateLimitSettings): Promise<boolean> {
  if (s.perMinute <= 0 || messageIds.length === 0) return true;
  const ok = await redis.eval(TAKE, 2, keys.bucket(principal), keys.charged(principal), s.perMinute / 60_000, s.burst, ...messageIds);
  return ok === 1;
}

/** The polite refusal goes out once per minute per user; further refused batches are consumed quietly. */
export async function claimRateNotice(redis: Redis, keys: AccessKeys, principal: string): Promise<boolean> {
  return (await redis.set(keys.rateNotice(principal), '1', 'EX', 60, 'NX')) === 'OK';
}

/**
 * Count one reply in this conversation's current minute; false once the cap is passed. `turnMark` (the id of the
 * turn's last event) makes a re-attempted turn count once.
 */
export async function allowReply(redis: Redis, keys: AccessKeys, conversationKey: string, turnMark: string, maxPerMinute: number, now = Date.now()): Promise<boolean> {
  if (maxPerMinute <= 0) return true;
  const minute = Math.floor(now / 60_000);
  const n = await redis.eval(COUNT_REPLY, 2, keys.loop(conversationKey, minute), keys.loopMark(conversationKey, turnMark, minute));
  return Number(n) <= maxPerMinute;
}
