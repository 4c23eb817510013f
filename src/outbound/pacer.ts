/**
 * Per-channel pacing shared by every worker process: before each send, reserve the next free slot for this
 * channel in Redis and wait until it comes. Platforms throttle per channel (Slack ~1/s, Telegram 1/s per chat and
 * 20/min per group), so pacing ourselves keeps us clear of 429s rather than bouncing off them.
 */
import type { Redis } from 'ioredis';

const RESERVE = `
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local nextFree = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now, nextFree)
-- Kept until the reserved slot is over, however far ahead a backlog pushed it (else later sends would burst).
redis.call('SET', KEYS[1], slot + interval, 'PX', slot - now + interval * 2 + 1000)
return slot - now`;

export async function reserveSendSlot(redis: Redis, key: string, intervalMs: number): Promise<number> {
  if (intervalMs <= 0) return 0;
  return (await redis.eval(RESERVE, 1, key, Date.now(), intervalMs)) as number;
}

export async function pace(redis: Redis, key: string, intervalMs: number): Promise<void> {
  const waitMs = await reserveSendSlot(redis, key, intervalMs);
  if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
}
