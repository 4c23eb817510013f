/**
 * Delivers a conversation's pending replies (outbox rows) in turn order, part by part. A part is sent only if it
 * has no receipt, and its receipt is written right after the platform accepts it (retried in place through a
 * database outage, never by re-sending): the one window where a crash can repeat a part is that single call
 * (adapters use the platform's idempotency aid where there is one).
 */
import { and, asc, eq } from 'drizzle-orm';
import pRetry from 'p-retry';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { PermanentSendError, RateLimitedError } from '../core/errors.js';
import type { AdapterRegistry } from '../core/registry.js';
import type { ConversationRef } from '../core/types.js';
import type { Db } from '../db/client.js';
import { outbox, receipts, turns } from '../db/schema.js';
import { correlationId } from '../observability/logger.js';
import { outboundParts } from '../observability/metrics.js';
import { publishDelivered } from './notifications.js';
import { pace } from './pacer.js';

export interface DeliverDeps {
  db: Db;
  redis: Redis;
  adapters: AdapterRegistry;
  deliveredChannel: string;
  paceKey(channelKey: string): string;
  log: Logger;
  /**
   * Renews this delivery's job lock and says whether it still holds it. Checked before every send: a worker whose
   * lock lapsed (a Redis outage longer than the lock, a starved event loop) may find its job handed to another
   * worker, and two workers sending the same parts would double them. See LostLockError.
   */
  holdsLock?(): Promise<boolean>;
  /** Longest 429 wait handled in-process; longer ones fail the job so BullMQ retries it later. */
  maxInlineWaitMs?: number;
  onPermanentFailure?(ref: ConversationRef, err: PermanentSendError): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * This worker no longer owns the delivery job: it stops before sending anything more. Whoever owns it now reads
 * the receipts and sends what is missing. (Fencing by lease leaves one case: a worker stalled for longer than a
 * whole lock between this check and its receipt write. With the default 30 s lock that is far outside any send.)
 */
export class LostLockError extends Error {
  override name = 'LostLockError';
}

/** 250 ms doubling to 5 s: about a minute in all. */
const RECEIPT_RETRIES = 15;

export async function deliverConversation(deps: DeliverDeps, conversationKey: string): Promise<number> {
  let sent = 0;
  for (;;) {
    const rows = await deps.db
      .select({ o: outbox, eventIds: turns.eventIds })
      .from(outbox)
      .innerJoin(turns, eq(turns.id, outbox.turnId))
      .where(and(eq(outbox.conversationKey, conversationKey), eq(outbox.status, 'pending')))
      .orderBy(asc(outbox.seq))
      .limit(20);
    if (!rows.length) return sent;
    for (const { o, eventIds } of rows) {
      await deliverOne(deps, o, eventIds as string[]);
      sent++;
    }
  }
}

async function deliverOne(deps: DeliverDeps, o: typeof outbox.$inferSelect, eventIds: string[]): Promise<void> {
  const ref = o.ref as ConversationRef;
  const log = deps.log.child({ correlationId: correlationId(eventIds), turnId: o.turnId, conversation: o.conversationKey });
  const adapter = deps.adapters.get(ref.platform);
  const finish = async (status: 'sent' | 'failed', parts: string[], error?: string) => {
    await deps.db.update(outbox).set({ status, partsTotal: parts.length, error: error ?? null, sentAt: new Date() }).where(eq(outbox.turnId, o.turnId));
    if (status === 'sent') log.info({ parts: parts.length }, 'reply delivered');
    await publishDelivered(deps.redis, deps.deliveredChannel, {
      turnId: o.turnId, conversationKey: o.conversationKey, eventIds, outcome: status === 'sent' ? 'replied' : 'failed', parts,
    });
  };
  if (!adapter) {
    log.error({ platform: ref.platform }, 'no adapter configured for platform; reply dropped');
    return finish('failed', [], `no adapter for ${ref.platform}`);
  }
  const parts = adapter.render(o.markdown);
  const done = new Set(
    (await deps.db.select({ i: receipts.partIndex }).from(receipts).where(eq(receipts.turnId, o.turnId))).map((r) => r.i),
  );
  const interval = adapter.paceMs?.(ref) ?? adapter.limits.minSendIntervalMs;
  const channelKey = `${ref.platform}:${ref.tenant}:${ref.channel}`;
  for (let i = 0; i < parts.length; i++) {
    if (done.has(i)) continue;
    const part = { text: parts[i]!, index: i, total: parts.length, replyTo: i === 0 ? (o.replyTo ?? undefined) : undefined, idempotencyKey: `${o.turnId}:${i}` };
    for (;;) {
      await pace(deps.redis, deps.paceKey(channelKey), interval);
      if (deps.holdsLock && !(await deps.holdsLock())) {
        log.warn({ part: i }, 'delivery job lock lost (handed to another worker); stopping before the send');
        throw new LostLockError(`lost the delivery lock for turn ${o.turnId} before part ${i}`);
      }
      let receipt: Awaited<ReturnType<typeof adapter.send>>;
      try {
        receipt = await adapter.send(ref, part);
      } catch (err) {
        if (err instanceof RateLimitedError) outboundParts.inc({ platform: ref.platform, result: 'rate_limited' });
        else outboundParts.inc({ platform: ref.platform, result: 'failed' });
        if (err instanceof RateLimitedError && err.retryAfterMs <= (deps.maxInlineWaitMs ?? 60_000)) {
          log.warn({ part: i, retryAfterMs: err.retryAfterMs }, 'rate limited; waiting before resending the same part');
          await sleep(err.retryAfterMs);
          continue;
        }
        if (err instanceof PermanentSendError) {
          log.warn({ reason: err.reason, err: err.message }, 'platform refused the conversation; reply marked failed');
          await deps.onPermanentFailure?.(ref, err);
          return finish('failed', parts.slice(0, i), `${err.reason}: ${err.message}`);
        }
        throw err; // transient: the job is retried with back-off, resuming at this part
      }
      // The platform has the part now. Failing the job here would send it again on the retry, so the receipt
      // write waits out a database outage of up to about a minute in place (a crash still leaves the one window).
      await pRetry(
        () => deps.db.insert(receipts).values({ turnId: o.turnId, partIndex: i, platformMessageId: receipt.platformMessageId }).onConflictDoNothing(),
        {
          retries: RECEIPT_RETRIES, minTimeout: 250, maxTimeout: 5_000,
          onFailedAttempt: ({ error, attemptNumber }) => log.warn({ part: i, attempt: attemptNumber, err: error.message }, 'receipt write failed after a send; retrying'),
        },
      );
      outboundParts.inc({ platform: ref.platform, result: 'sent' });
      break;
    }
  }
  await finish('sent', parts);
}
