/**
 * Two Redis counters on the turn path:
 * - a per-user token bucket over messages (every human message costs one token; the bucket refills at
 *   RATE_LIMIT_PER_MINUTE up to RATE_LIMIT_BURST). The gateway's token-bucket script (src/core/scripts, shared
 *   with the agent API), not a library: none is installed, the bucket must be atomic across workers, and it uses
 *   Redis' clock so workers' clocks never matter.
 *   A message is charged once, whatever happens to its turn: a turn that is deferred (pause, a later hook) or
 *   re-run after a crash (BullMQ is at-least-once) sees the same message ids again and pays only for new ones.
 * - the bot-loop guard: replies per conversation per minute (fixed one-minute windows), so two bots that answer
 *   each other (when *_ALLOW_BOTS lets bots in) stop after a bounded number of rounds.
 */
import type { Redis } from 'ioredis';
import type { AccessKeys } from './policy.js';
import { runScript } from '../core/scripts.js';

export interface RateLimitSettings {
  perMinute: number;
  burst: number;
}

/**
 * Take one token per message not charged before from this user's bucket; false (and nothing taken) when there
 * are not enough for all of them.
 */
export async function takeTokens(
  redis: Redis,
  keys: AccessKeys,
  principal: string,
  messageIds: string[],
  s: RateLimitSettings,
): Promise<boolean> {
  if (s.perMinute <= 0 || messageIds.length === 0) return true;
  const bucketKeys = [keys.bucket(principal), keys.charged(principal)];
  const rate = [s.perMinute / 60_000, s.burst];
  const wait = await runScript<number>(redis, 'token-bucket', bucketKeys, [...rate, ...messageIds]);
  return wait === 0;
}

/** The polite refusal goes out once per minute per user; further refused batches are consumed quietly. */
export async function claimRateNotice(redis: Redis, keys: AccessKeys, principal: string): Promise<boolean> {
  return (await redis.set(keys.rateNotice(principal), '1', 'EX', 60, 'NX')) === 'OK';
}

/**
 * Count one reply in this conversation's current minute; false once the cap is passed. `turnMark` (the id of the
 * turn's last event) makes a re-attempted turn count once.
 */
export async function allowReply(
  redis: Redis,
  keys: AccessKeys,
  conversationKey: string,
  turnMark: string,
  maxPerMinute: number,
  now = Date.now(),
): Promise<boolean> {
  if (maxPerMinute <= 0) return true;
  const minute = Math.floor(now / 60_000);
  // Counts a turn once however often it is attempted.
  const counter = keys.loop(conversationKey, minute);
  const n = await runScript(redis, 'count-once', [counter, keys.loopMark(conversationKey, turnMark, minute)]);
  return Number(n) <= maxPerMinute;
}
