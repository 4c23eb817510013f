/**
 * The turn job's guard against a batch that can never commit. A permanent failure (src/worker/failures.ts) is
 * counted against the conversation's oldest inbox entry; from then on the turn runs that entry alone, so an
 * innocent message batched with a poison one is answered, and the poison one is isolated. After
 * DEADLETTER_AFTER_ATTEMPTS failures it is dead-lettered: kept (src/worker/deadletter-store.ts), the user gets
 * one short notice through the normal outbox, its inbox entry is acked and the conversation moves on.
 * Every step is safe to repeat after a crash: the record is kept once, the notice turn's id derives from the
 * dead letter's id (a second commit is refused by its primary key), and the failure count is cleared last.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { inboundEventSchema } from '../core/types.js';
import type { Db } from '../db/client.js';
import { sanitizeEvent } from '../ingress/sanitize.js';
import { safeErr } from '../observability/logger.js';
import { turnsTotal } from '../observability/metrics.js';
import type { Inbox } from '../queue/inbox.js';
import type { Keys } from '../queue/keys.js';
import { runScript } from '../core/scripts.js';
import type { Queues } from '../queue/queues.js';
import { commitTurn, loadConversation, StaleTurnError, turnExists } from './commit.js';
import { keepDeadLetter } from './deadletter-store.js';
import { failureReason, isPermanentFailure } from './failures.js';

export const DEAD_LETTER_NOTICE =
  "Sorry, I couldn't process your last message. It has been set aside for an administrator; your next message will be answered as usual.";

export interface GuardDeps {
  db: Db;
  redis: Redis;
  inbox: Inbox;
  queues: Queues;
  keys: Keys;
  log: Logger;
  /** Permanent failures of the same inbox head before it is dead-lettered (>= 2: the last ones ran it alone). */
  maxAttempts: number;
}

interface Failures {
  head: string;
  count: number;
  reason: string;
}

async function readFailures(g: GuardDeps, key: string): Promise<Failures | null> {
  const h = await g.redis.hgetall(g.keys.turnFailures(key));
  return h.head ? { head: h.head, count: Number(h.count ?? 0), reason: h.reason ?? 'Error' } : null;
}

/**
 * Runs `turn` (processConversation with an optional batch size) under the guard. `retrying`: the job failed
 * before (only then is there a failure count worth reading: a first attempt costs no extra Redis call).
 */
export async function guardedTurn(
  g: GuardDeps,
  key: string,
  retrying: boolean,
  turn: (batchMax?: number) => Promise<void>,
): Promise<void> {
  const prior = retrying ? await readFailures(g, key) : null;
  const head = prior ? await g.inbox.head(key) : null;
  const isolate = !!(prior && head && prior.head === head.streamId);
  // A dead-lettering that was interrupted (database away while writing the notice): finish it, run nothing.
  if (isolate && prior!.count >= g.maxAttempts) return deadLetter(g, key, head!, prior!.reason, prior!.count);
  try {
    await turn(isolate ? 1 : undefined);
  } catch (err) {
    if (!isPermanentFailure(err)) throw err;
    const now = await g.inbox.head(key);
    if (!now) throw err;
    const reason = failureReason(err);
    // Counts failures for one inbox head; a different head starts a new count.
    const count = await runScript<number>(g.redis, 'count-failure', [g.keys.turnFailures(key)], [now.streamId, reason]);
    g.log.warn(
      { conversation: key, attempt: count, of: g.maxAttempts, reason, err: safeErr(err) },
      'turn failed for a reason retrying cannot fix',
    );
    if (count < g.maxAttempts) throw err;
    return deadLetter(g, key, now, reason, count);
  }
  if (prior) await g.redis.del(g.keys.turnFailures(key));
}

/** A stable UUID from a string: the notice turn of a dead letter always has the same id. */
export function uuidFrom(s: string): string {
  const h = createHash('sha256').update(s).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

async function deadLetter(
  g: GuardDeps,
  key: string,
  head: { streamId: string; json: string },
  reason: string,
  attempts: number,
): Promise<void> {
  const id = `dl-${createHash('sha256').update(`${key}\n${head.streamId}`).digest('hex').slice(0, 12)}`;
  await keepDeadLetter(g.redis, g.keys, {
    id,
    conversationKey: key,
    event: head.json,
    reason,
    attempts,
    at: new Date().toISOString(),
    status: 'dead',
  });
  await sendNotice(g, key, head.json, id);
  // The output kept for its last attempts (it ran alone) came from the poison input: a re-run must not reuse it.
  const left = await g.inbox.ack(key, [head.streamId], g.keys.modelOutput(key));
  await g.redis.del(g.keys.turnFailures(key));
  g.log.warn(
    { conversation: key, deadLetter: id, reason, attempts },
    'turn dead-lettered; its event is kept for /deadletters',
  );
  turnsTotal.inc({ outcome: 'dead_letter' });
  if (left > 0) await g.queues.scheduleTurn(key);
}

/** One notice through the outbox, exactly once; none for a synthetic event (nobody asked) or no usable address. */
async function sendNotice(g: GuardDeps, key: string, json: string, id: string): Promise<void> {
  let parsed;
  try {
    parsed = inboundEventSchema.safeParse(JSON.parse(json));
  } catch {
    return;
  }
  if (!parsed.success || parsed.data.kind === 'checkin' || parsed.data.kind === 'reminder') return;
  const e = sanitizeEvent(parsed.data);
  const turnId = uuidFrom(id);
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const state = await loadConversation(g.db, key);
      await commitTurn(g.db, {
        turnId,
        conversationKey: key,
        ref: e.conversation,
        state,
        events: [],
        // Not consumed (kept for an admin to re-run), but answered: a half-written preview becomes the notice.
        answers: [e.id],
        items: [],
        reply: DEAD_LETTER_NOTICE,
        replyTo: e.platformMessageId,
        outcome: 'dead_letter',
        inputTokens: 0,
        outputTokens: 0,
        model: '',
        durationMs: 0,
      });
    } catch (err) {
      if (err instanceof StaleTurnError && !(await turnExists(g.db, turnId))) continue; // another turn moved the version
      if (!(err instanceof StaleTurnError)) {
        if (!isPermanentFailure(err)) throw err;
        // Even the conversation's key or address cannot be stored: the event is kept, but nobody can be told.
        g.log.warn({ conversation: key, deadLetter: id, err: safeErr(err) }, 'dead-letter notice cannot be written');
        return;
      }
    }
    await g.queues.scheduleDelivery(key);
    return;
  }
  throw new StaleTurnError(`dead-letter notice for ${key} kept losing the version race`);
}
