/**
 * Delivers a conversation's pending replies (outbox rows) in turn order, part by part. A part is sent only if it
 * has no receipt, and right after the platform accepts it, it is marked sent in Redis and its receipt is written to
 * the database (retried in place through a database outage, never by re-sending). Whichever lands first closes
 * the window: the one place where a crash can repeat a part is the send call itself (adapters use the platform's
 * idempotency aid where there is one). Without the Redis mark, a worker killed while its receipt write waits out
 * a database outage would leave the part to be sent again, so the window would be the whole outage.
 */
import { and, asc, eq, sql } from 'drizzle-orm';
import pRetry from 'p-retry';
import type { Redis } from 'ioredis';
import type { Sql } from 'postgres';
import type { Logger } from 'pino';
import { PermanentSendError, RateLimitedError } from '../core/errors.js';
import type { AdapterRegistry } from '../core/registry.js';
import type { ChannelAdapter } from '../core/adapter.js';
import type { ConversationRef, RenderedPart } from '../core/types.js';
import type { Db } from '../db/client.js';
import { preparedQuery } from '../db/prepared.js';
import { outbox, receipts, turns } from '../db/schema.js';
import { promptMessageOf } from '../approvals/store.js';
import { correlationId, safeErr } from '../observability/logger.js';
import { outboundParts } from '../observability/metrics.js';
import { contextOf, conversationAttr, inSpan, SpanKind } from '../observability/tracing.js';
import { turnTrace } from '../observability/turn-trace.js';
import { publishDelivered } from './notifications.js';
import { clearSentMark, markSending, markSent, readMarks } from './sent-marks.js';
import { pace } from './pacer.js';
import { lazyChild } from '../observability/lazy-child.js';
import { previewOf } from '../live/preview-record.js';

export interface DeliverDeps {
  db: Db;
  redis: Redis;
  adapters: AdapterRegistry;
  deliveredChannel: string;
  paceKey(channelKey: string): string;
  /** Where a sent part is marked in Redis (see markSent); without it, only the database receipt counts. */
  sentKey?(part: string): string;
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
  /** The hash of a conversation's live previews (src/live/preview.ts): a preview becomes the first part. */
  previewsKey?(conversationKey: string): string;
  /** Where a turn left its traceparent (src/observability/turn-trace.ts): the delivery's spans join the turn's trace. */
  turnTraceKey?(turnId: string): string;
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

const PAGE = 20;

// With the parts that already have a receipt (a retried delivery): one read per page, not one more per reply.
const pendingReplies = preparedQuery((db) =>
  db
    .select({
      o: outbox,
      eventIds: turns.eventIds,
      done: sql<number[]>`(select coalesce(json_agg(r.part_index), '[]'::json) from ${receipts} r
        where r.turn_id = ${outbox.turnId})`,
    })
    .from(outbox)
    .innerJoin(turns, eq(turns.id, outbox.turnId))
    .where(and(eq(outbox.conversationKey, sql.placeholder('conversationKey')), eq(outbox.status, 'pending')))
    .orderBy(asc(outbox.seq))
    .limit(PAGE)
    .prepare('pending_replies'),
);

const finishReply = preparedQuery((db) =>
  db
    .update(outbox)
    .set({
      status: sql`${sql.placeholder('status')}`,
      partsTotal: sql`${sql.placeholder('partsTotal')}`,
      error: sql`${sql.placeholder('error')}`,
      sentAt: sql`now()`,
    })
    .where(eq(outbox.turnId, sql.placeholder('turnId')))
    .prepare('finish_reply'),
);

const insertReceipt = preparedQuery((db) =>
  db
    .insert(receipts)
    .values({
      turnId: sql.placeholder('turnId'),
      partIndex: sql.placeholder('partIndex'),
      platformMessageId: sql.placeholder('platformMessageId'),
    })
    .onConflictDoNothing()
    .prepare('insert_receipt'),
);

/** 250 ms doubling to 5 s: about a minute in all. */
const RECEIPT_RETRIES = 15;

export async function deliverConversation(deps: DeliverDeps, conversationKey: string): Promise<number> {
  let sent = 0;
  for (;;) {
    const rows = await pendingReplies(deps.db).execute({ conversationKey });
    for (const { o, eventIds, done } of rows) {
      const traceparent = await turnTrace(deps.redis, deps.turnTraceKey, o.turnId);
      const parent = contextOf(traceparent);
      const platform = (o.ref as ConversationRef).platform;
      const attributes = { platform, ...conversationAttr(o.conversationKey) };
      await inSpan(
        'deliver',
        { kind: SpanKind.PRODUCER, attributes },
        () => deliverOne(deps, o, eventIds as string[], new Set(done)),
        parent,
      );
      if (traceparent) await deps.redis.unlink(deps.turnTraceKey!(o.turnId)).catch(() => 0); // the TTL is the fallback
      sent++;
    }
    // A short page drained the outbox. A reply committed meanwhile has scheduled its own delivery job, which runs
    // after this one (deduplicated, kept as the next job), so stopping here saves a query and loses nothing.
    if (rows.length < PAGE) return sent;
  }
}

async function deliverOne(
  deps: DeliverDeps,
  o: typeof outbox.$inferSelect,
  eventIds: string[],
  done: Set<number>,
): Promise<void> {
  const ref = o.ref as ConversationRef;
  const log = lazyChild(deps.log, {
    correlationId: correlationId(eventIds),
    turnId: o.turnId,
    conversation: o.conversationKey,
  });
  const adapter = deps.adapters.get(ref.platform);
  /** `recorded`: the outbox row was already finished with the last part's receipt (one statement for both). */
  const finish = async (status: 'sent' | 'failed', parts: string[], error?: string, recorded = false) => {
    if (!recorded)
      await finishReply(deps.db).execute({ turnId: o.turnId, status, partsTotal: parts.length, error: error ?? null });
    if (status === 'sent') log.info({ parts: parts.length }, 'reply delivered');
    await publishDelivered(
      deps.redis,
      deps.deliveredChannel,
      {
        turnId: o.turnId,
        conversationKey: o.conversationKey,
        eventIds,
        outcome: status === 'sent' ? 'replied' : 'failed',
        parts,
      },
      adapter?.capabilities.replaysDeliveries === true,
    );
  };
  if (!adapter) {
    log.error({ platform: ref.platform }, 'no adapter configured for platform; reply dropped');
    return finish('failed', [], `no adapter for ${ref.platform}`);
  }
  const parts = adapter.render(o.markdown);
  const unsure = await healFromMarks(deps, o.turnId, parts.length, done, log);
  // The answer was shown while it was written: its preview message becomes the first part (edited in place).
  const previewsKey = deps.previewsKey?.(o.conversationKey);
  // The record outlives part 0 until the whole reply is out, so a retried delivery still knows where parts go.
  const previewed =
    previewsKey && adapter.preview && eventIds[0] ? await previewOf(deps.redis, previewsKey, eventIds[0]) : null;
  const preview = done.has(0) ? null : previewed;
  const rest = previewed && adapter.preview?.continueIn ? adapter.preview.continueIn(ref, o.replyTo ?? undefined) : ref;
  // An approval's answer (or its expiry, or the run's next prompt) takes the prompt's place: the prompt is edited,
  // its buttons removed (or replaced by the next prompt's).
  const promptId = o.replacesApproval && adapter.approvals ? await promptMessageOf(deps.db, o.replacesApproval) : null;
  const prompt = done.has(0) ? null : promptId;
  const interval = adapter.paceMs?.(ref) ?? adapter.limits.minSendIntervalMs;
  const channelKey = `${ref.platform}:${ref.tenant}:${ref.channel}`;
  let recorded = false;
  for (let i = 0; i < parts.length; i++) {
    if (done.has(i)) continue;
    const part = {
      text: parts[i]!,
      index: i,
      total: parts.length,
      replyTo: i === 0 ? (o.replyTo ?? undefined) : undefined,
      idempotencyKey: `${o.turnId}:${i}`,
      // An approval prompt carries its buttons on its last part, under the whole question.
      approvalId: o.approvalId && i === parts.length - 1 ? o.approvalId : undefined,
    };
    const plain = !(i === 0 && (prompt || preview)); // not an edit, which a retry may repeat harmlessly
    const target = i === 0 ? ref : rest;
    // The last delivery stopped during this part's send: the platform may have posted it; ask before posting again.
    const since = unsure.get(i);
    const posted = since && plain && adapter.findSent ? await adapter.findSent(target, part, since) : undefined;
    if (posted) {
      recorded = i === parts.length - 1;
      await recordFromMark(deps, o.turnId, i, posted.platformMessageId, recorded ? parts.length : 0);
      log.warn({ part: i }, 'part was posted before a crash lost its answer; found on the platform, not sent again');
      continue;
    }
    for (;;) {
      await pace(deps.redis, deps.paceKey(channelKey), interval);
      if (deps.holdsLock && !(await deps.holdsLock())) {
        log.warn({ part: i }, 'delivery job lock lost (handed to another worker); stopping before the send');
        throw new LostLockError(`lost the delivery lock for turn ${o.turnId} before part ${i}`);
      }
      let receipt: Awaited<ReturnType<typeof adapter.send>>;
      try {
        const attributes = { platform: ref.platform, 'part.index': i, 'part.total': parts.length };
        receipt = await inSpan(`send ${ref.platform}`, { kind: SpanKind.CLIENT, attributes }, () =>
          i === 0 && prompt
            ? replacePrompt(adapter, ref, prompt, part)
            : i === 0 && preview
              ? finalisePreview(adapter, ref, preview, part)
              : sendMarked(deps, adapter, target, part, o.turnId),
        );
      } catch (err) {
        if (err instanceof RateLimitedError) outboundParts.inc({ platform: ref.platform, result: 'rate_limited' });
        else outboundParts.inc({ platform: ref.platform, result: 'failed' });
        if (err instanceof RateLimitedError && err.retryAfterMs <= (deps.maxInlineWaitMs ?? 60_000)) {
          log.warn({ part: i, retryAfterMs: err.retryAfterMs }, 'rate limited; waiting before resending the same part');
          await sleep(err.retryAfterMs);
          continue;
        }
        if (err instanceof PermanentSendError) {
          log.warn({ reason: err.reason, err: safeErr(err) }, 'platform refused the conversation; reply marked failed');
          await deps.onPermanentFailure?.(ref, err);
          return finish('failed', parts.slice(0, i), `${err.reason}: ${err.message}`);
        }
        throw err; // transient: the job is retried with back-off, resuming at this part
      }
      // The platform has the part now. Failing the job here would send it again on the retry, so the receipt
      // write waits out a database outage of up to about a minute in place, and the Redis mark covers a crash
      // meanwhile (both run at once: whichever is up first makes the part count as sent).
      const mark = markSent(deps, o.turnId, i, receipt.platformMessageId);
      // The last part's receipt also finishes the reply, in the same statement (one write instead of two).
      const last = i === parts.length - 1;
      await pRetry(() => writeReceipt(deps.db, o.turnId, i, receipt.platformMessageId, last ? parts.length : 0), {
        retries: RECEIPT_RETRIES,
        minTimeout: 250,
        maxTimeout: 5_000,
        onFailedAttempt: ({ error, attemptNumber }) =>
          log.warn(
            { part: i, attempt: attemptNumber, err: safeErr(error) },
            'receipt write failed after a send; retrying',
          ),
      });
      recorded = last;
      await mark;
      await clearSentMark(deps, o.turnId, i); // the receipt is the record now: marks live only through the window
      outboundParts.inc({ platform: ref.platform, result: 'sent' });
      break;
    }
  }
  // A resumed run previews in its prompt; one that could not (the prompt had no receipt yet) posted a preview of
  // its own, which goes now that the prompt holds the answer: one final reply, never two.
  if (promptId && previewed && previewed !== promptId) await adapter.preview!.remove(ref, previewed).catch(() => 0);
  // Only a channel with previews ever records one (src/live/preview.ts): the others need no clean-up call.
  if (previewsKey && adapter.preview && eventIds[0]) await deps.redis.hdel(previewsKey, eventIds[0]).catch(() => 0);
  await finish('sent', parts, undefined, recorded);
}

/** A platform that can be asked later (findSent) gets a "sending" mark first: a crash mid-send is then known. */
async function sendMarked(
  deps: DeliverDeps,
  adapter: ChannelAdapter,
  ref: ConversationRef,
  part: RenderedPart,
  turnId: string,
) {
  if (adapter.findSent) await markSending(deps, turnId, part.index);
  return adapter.send(ref, part);
}

/** An edit is idempotent: a retry after a crash edits the same message again, never posts a second one. */
async function finalisePreview(adapter: ChannelAdapter, ref: ConversationRef, messageId: string, part: RenderedPart) {
  try {
    await adapter.preview!.edit(ref, messageId, part.text);
  } catch (err) {
    // Someone deleted the preview: the reply is posted as usual.
    if (err instanceof PermanentSendError && err.reason === 'not_found') return adapter.send(ref, part);
    throw err;
  }
  return { platformMessageId: messageId };
}

/** Like a preview: an edit is idempotent, and a prompt someone deleted is answered with a new message. */
async function replacePrompt(adapter: ChannelAdapter, ref: ConversationRef, messageId: string, part: RenderedPart) {
  try {
    await adapter.approvals!.replace(ref, messageId, part.text, part.approvalId);
  } catch (err) {
    if (err instanceof PermanentSendError && err.reason === 'not_found') return adapter.send(ref, part);
    throw err;
  }
  return { platformMessageId: messageId };
}

/**
 * A part's receipt; with `finishTotal` (> 0) the reply is marked sent with that many parts in the same statement.
 * Idempotent either way (the receipt's primary key), so it is retried as a whole.
 */
async function writeReceipt(db: Db, turnId: string, partIndex: number, platformMessageId: string, finishTotal = 0) {
  if (!finishTotal) return insertReceipt(db).execute({ turnId, partIndex, platformMessageId });
  // postgres.js prepares and caches the statement by its text; drizzle has no builder for a writing CTE.
  const client = (db as unknown as { $client: Sql }).$client; // drizzle() sets it; the Db type leaves it out
  await client`with r as (
      insert into receipts (turn_id, part_index, platform_message_id) values (${turnId}, ${partIndex}, ${platformMessageId})
      on conflict do nothing)
    update outbox set status = 'sent', parts_total = ${finishTotal}, error = null, sent_at = now()
    where turn_id = ${turnId}`;
}

/** A part a crash left without a receipt, known sent after all: its receipt is written, then its mark goes. */
async function recordFromMark(
  deps: DeliverDeps,
  turnId: string,
  i: number,
  platformMessageId: string,
  finishTotal = 0,
) {
  await writeReceipt(deps.db, turnId, i, platformMessageId, finishTotal);
  await clearSentMark(deps, turnId, i);
}

/**
 * Parts marked sent in Redis whose database receipt never landed (a worker died while the database was away):
 * they count as sent, and their receipts are written now. Returns the parts whose send was under way when the
 * last delivery stopped, with when it began (the platform is asked about them before they are sent again).
 */
async function healFromMarks(
  deps: DeliverDeps,
  turnId: string,
  total: number,
  done: Set<number>,
  log: Logger,
): Promise<Map<number, Date>> {
  const unsure = new Map<number, Date>();
  if (!deps.sentKey || done.size >= total) return unsure;
  const missing = Array.from({ length: total }, (_, i) => i).filter((i) => !done.has(i));
  for (const [i, mark] of await readMarks(deps, turnId, missing)) {
    if ('sendingSince' in mark) {
      unsure.set(i, mark.sendingSince);
      continue;
    }
    await recordFromMark(deps, turnId, i, mark.sent);
    done.add(i);
    log.warn(
      { part: i },
      'part was sent before a crash but had no receipt; receipt written from its Redis mark, not sent again',
    );
  }
  return unsure;
}
