/**
 * Per-channel pacing shared by every worker process: before each send, reserve the next free slot for this
 * channel in Redis and wait until it comes. Platforms throttle per channel (Slack ~1/s, Telegram 1/s per chat and
 * 20/min per group), so pacing ourselves keeps us clear of 429s rather than bouncing off them.
 */
import type { Redis } from 'ioredis';
import { runScript } from '../core/scripts.js';

/** Reserve the next free slot under `key`, one `intervalMs` apart; returns how long to wait for it (ms). */
export async function reserveSendSlot(redis: Redis, key: string, intervalMs: number): Promise<number> {
  if (intervalMs <= 0) return 0;
  return runScript<number>(redis, 'reserve-slot', [key], [Date.now(), intervalMs]);
}

export async function pace(redis: Redis, key: string, intervalMs: number): Promise<void> {
  const waitMs = await reserveSendSlot(redis, key, intervalMs);
  if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
}
