/**
 * Maintenance pause. While paused, every turn is deferred (its messages stay in the inbox, unconsumed, in order)
 * and each conversation where a person wrote gets ONE polite notice per pause: the notice is claimed with a Redis
 * NX key per (pause epoch, conversation) and sent straight through the adapter, paced like any delivery. On
 * resume the deferred turn jobs are promoted, so the held messages are answered at once, each exactly once (the
 * spine's inbox + consumed-ids guarantee).
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { AdapterRegistry } from '../core/registry.js';
import type { ConversationRef } from '../core/types.js';
import { pace } from '../outbound/pacer.js';
import type { Queues } from '../queue/queues.js';
import type { AccessKeys } from './policy.js';
import { safeErr } from '../observability/logger.js';

export const PAUSE_NOTICE =
  "I'm down for a short maintenance right now. Your message is safe: I'll answer it as soon as I'm back.";

export interface PauseState {
  epoch: string;
  by: string;
  at: string;
}

export async function currentPause(redis: Redis, keys: AccessKeys): Promise<PauseState | null> {
  const raw = await redis.get(keys.pause);
  return raw ? (JSON.parse(raw) as PauseState) : null;
}

/** Start a pause (a new epoch); if one is on already, that one stays. */
export async function startPause(
  redis: Redis,
  keys: AccessKeys,
  by: string,
  now = new Date(),
): Promise<{ state: PauseState; already: boolean }> {
  const state: PauseState = { epoch: randomUUID(), by, at: now.toISOString() };
  if ((await redis.set(keys.pause, JSON.stringify(state), 'NX')) === 'OK') return { state, already: false };
  return { state: (await currentPause(redis, keys)) ?? state, already: true };
}

/** End the pause and wake the held conversations now rather than at their next look. */
export async function endPause(redis: Redis, keys: AccessKeys, queues: Queues): Promise<boolean> {
  const was = (await redis.del(keys.pause)) === 1;
  // Deferred turns wait as delayed jobs; promoting every delayed turn is harmless (turns are idempotent).
  await queues.turns.promoteJobs().catch(() => undefined);
  return was;
}

export interface NoticeDeps {
  redis: Redis;
  keys: AccessKeys;
  adapters: AdapterRegistry;
  paceKey(channelKey: string): string;
  log: Logger;
}

/** Send the pause notice into this conversation unless it already got one in this pause. */
export async function noticeOnce(
  d: NoticeDeps,
  pause: PauseState,
  conversationKey: string,
  ref: ConversationRef,
  replyTo?: string,
): Promise<boolean> {
  const claim = d.keys.pauseNotice(pause.epoch, conversationKey);
  if ((await d.redis.set(claim, '1', 'EX', 7 * 24 * 3600, 'NX')) !== 'OK') return false;
  const adapter = d.adapters.get(ref.platform);
  if (!adapter) return false;
  try {
    const parts = adapter.render(PAUSE_NOTICE);
    const interval = adapter.paceMs?.(ref) ?? adapter.limits.minSendIntervalMs;
    for (const [index, text] of parts.entries()) {
      await pace(d.redis, d.paceKey(`${ref.platform}:${ref.tenant}:${ref.channel}`), interval);
      await adapter.send(ref, {
        text,
        index,
        total: parts.length,
        replyTo: index === 0 ? replyTo : undefined,
        idempotencyKey: `pause:${pause.epoch}:${conversationKey}:${index}`,
      });
    }
    return true;
  } catch (err) {
    // Give the claim back so the next look (PAUSE_RECHECK_MS) tries again; the messages themselves are safe.
    await d.redis.del(claim).catch(() => undefined);
    d.log.warn({ conversation: conversationKey, err: safeErr(err) }, 'pause notice not sent');
    return false;
  }
}
