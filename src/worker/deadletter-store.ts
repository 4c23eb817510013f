/**
 * Dead letters: inbox entries set aside after their turn failed DEADLETTER_AFTER_ATTEMPTS times for a permanent
 * reason. Kept in one Redis hash (`<prefix>:deadletters`, id -> JSON) exactly as they were stored in the inbox,
 * so an administrator can list them and run one again (`/deadletters`). Listing never shows the message itself:
 * what a user wrote stays in their conversation.
 */
import type { Redis } from 'ioredis';
import type { IngressSink } from '../core/adapter.js';
import { inboundEventSchema } from '../core/types.js';
import { sanitizeEvent } from '../ingress/sanitize.js';
import type { Keys } from '../queue/keys.js';

export interface DeadLetter {
  id: string;
  conversationKey: string;
  /** The inbox entry as stored (JSON of the event). */
  event: string;
  /** SQLSTATE or error class of the last failure; never a message. */
  reason: string;
  attempts: number;
  at: string;
  status: 'dead' | 'retried';
  retriedAt?: string;
  retriedBy?: string;
}

export async function keepDeadLetter(redis: Redis, keys: Keys, d: DeadLetter): Promise<void> {
  await redis.hsetnx(keys.deadLetters, d.id, JSON.stringify(d)); // a repeated dead-lettering keeps the first record
}

export async function getDeadLetter(redis: Redis, keys: Keys, id: string): Promise<DeadLetter | null> {
  const json = await redis.hget(keys.deadLetters, id);
  return json ? (JSON.parse(json) as DeadLetter) : null;
}

/** Newest first. */
export async function listDeadLetters(
  redis: Redis,
  keys: Keys,
  limit: number,
): Promise<{ total: number; items: DeadLetter[] }> {
  const all = Object.values(await redis.hgetall(keys.deadLetters)).map((j) => JSON.parse(j) as DeadLetter);
  all.sort((a, b) => b.at.localeCompare(a.at));
  return { total: all.length, items: all.slice(0, limit) };
}

/**
 * Runs a dead letter again: the event, put through today's ingress rule, goes back to its conversation's inbox as
 * if just received (its dedupe mark is lifted first; a message a committed turn already consumed is still never
 * answered twice). Returns the sink's outcome, or why it could not be re-run.
 */
export async function retryDeadLetter(
  redis: Redis,
  keys: Keys,
  sink: IngressSink,
  id: string,
  by: string,
): Promise<'accepted' | 'duplicate' | 'refused' | 'missing' | 'unreadable'> {
  const d = await getDeadLetter(redis, keys, id);
  if (!d) return 'missing';
  let parsed;
  try {
    parsed = inboundEventSchema.safeParse(JSON.parse(d.event));
  } catch {
    return 'unreadable';
  }
  if (!parsed.success) return 'unreadable';
  const event = sanitizeEvent(parsed.data);
  await redis.del(keys.seen(event.id));
  let outcome: 'accepted' | 'duplicate' | 'refused';
  try {
    outcome = await sink.submit(event);
  } catch {
    outcome = 'refused';
  }
  if (outcome !== 'refused') {
    await redis.hset(
      keys.deadLetters,
      id,
      JSON.stringify({ ...d, status: 'retried', retriedAt: new Date().toISOString(), retriedBy: by }),
    );
  }
  return outcome;
}
