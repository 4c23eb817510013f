/**
 * Scheduled messages for admins (the `schedule` / `broadcast` commands call these): one-off or recurring, to one
 * conversation or to every conversation opted in to announcements. The text is sent as written — the model does
 * not run, so an announcement to 10,000 users costs no tokens.
 *
 * Fan-out: when a message to all fires, a batch job pages through the opted-in conversations (BATCH at a time) and
 * adds one small delayed job per recipient, each delayed to a slot reserved in a per-platform pacer in Redis
 * (SCHEDULER_FANOUT_PER_SECOND). So no giant job, no burst past a platform's global limit (Telegram ~30/s), and
 * a crash mid-way resumes: job ids and event ids are stable, a repeated step is a no-op.
 */
import { randomUUID } from 'node:crypto';
import { and, asc, eq, gt, sql as dsql } from 'drizzle-orm';
import { DateTime } from 'luxon';
import { conversationKey as keyOf, type ConversationRef } from '../core/types.js';
import { loadCheckin, storedRef } from './checkins.js';
import type { SchedulerCtx } from './context.js';
import { announcementText, syntheticEvent } from './events.js';
import { messageEventId } from './ids.js';
import { schedulerFires } from './fire-checkin.js';
import { schedulerSpec } from './queue.js';
import { checkins, scheduledMessages, type ScheduledMessageRow } from './schema.js';
import { dailyPattern, describeCadence, isValidTimezone, nextSlotAfter, validateCadence } from './slots.js';
import { parseWhen } from './when.js';
import { safeErr } from '../observability/logger.js';
import { reserveSendSlot } from '../outbound/pacer.js';

export const FANOUT_BATCH = 200;

export interface ScheduleMessageInput {
  text: string;
  /** One conversation (its reference or key), or every conversation opted in to announcements. */
  to: { ref: ConversationRef } | { conversationKey: string } | 'optins';
  /** One-off: a Date, or words read in `timezone` ("tomorrow at 9", "2025-06-01 09:00"). Omit for recurring. */
  at?: Date | string;
  /** Recurring: daily at 'HH:mm', a cron pattern, or an interval. */
  time?: string;
  pattern?: string;
  everyMs?: number;
  timezone?: string;
  createdBy?: string;
}

export interface ScheduledMessage {
  id: string;
  text: string;
  target: 'conversation' | 'optins';
  conversationKey: string | null;
  runAt: Date | null;
  pattern: string | null;
  everyMs: number | null;
  timezone: string;
  /** When, for people: "2025-06-01 09:00 (UTC)", "daily 09:00 (Europe/Berlin)". */
  when: string;
  /** scheduled (will fire), sent (a one-off that fired). */
  state: 'scheduled' | 'sent';
  nextAt: Date | null;
  createdBy: string | null;
}

function toMessage(row: ScheduledMessageRow, now = new Date()): ScheduledMessage {
  const recurring = row.pattern || row.everyMs;
  const cadence = recurring ? validateCadence({ pattern: row.pattern, everyMs: row.everyMs }) : null;
  const nextAt = !row.enabled
    ? null
    : cadence
      ? new Date(
          nextSlotAfter(cadence, row.timezone, now.getTime(), schedulerSpec(row.id, cadence, row.timezone).offset),
        )
      : row.runAt;
  return {
    id: row.id,
    text: row.text,
    target: row.target as ScheduledMessage['target'],
    conversationKey: row.conversationKey,
    runAt: row.runAt,
    pattern: row.pattern,
    everyMs: row.everyMs,
    timezone: row.timezone,
    when: cadence
      ? describeCadence(cadence, row.timezone)
      : `${DateTime.fromJSDate(row.runAt!, { zone: row.timezone }).toFormat('yyyy-LL-dd HH:mm')} (${row.timezone})`,
    state: row.enabled ? 'scheduled' : 'sent',
    nextAt,
    createdBy: row.createdBy,
  };
}

/** Put one row's schedule into Redis (a job scheduler for recurring, a delayed job for one-off). */
export async function mirrorMessage(ctx: SchedulerCtx, row: ScheduledMessageRow): Promise<void> {
  if (!row.enabled) return;
  if (row.pattern || row.everyMs) {
    await ctx.queue.upsertMessage(
      row.id,
      schedulerSpec(row.id, validateCadence({ pattern: row.pattern, everyMs: row.everyMs }), row.timezone),
    );
  } else if (row.runAt) {
    await ctx.queue.addOneOffMessage(row.id, row.runAt);
  }
}

export async function scheduleMessage(ctx: SchedulerCtx, input: ScheduleMessageInput): Promise<ScheduledMessage> {
  const text = input.text.trim();
  if (!text) throw new Error('the message is empty');
  const timezone = input.timezone ?? ctx.settings.defaultTimezone;
  if (!isValidTimezone(timezone)) throw new Error(`unknown timezone "${timezone}"`);
  let conversationKey: string | null = null;
  let ref: ConversationRef | null = null;
  if (input.to !== 'optins') {
    conversationKey = 'ref' in input.to ? keyOf(input.to.ref) : input.to.conversationKey;
    ref = 'ref' in input.to ? input.to.ref : await storedRef(ctx, conversationKey);
    if (!ref) throw new Error(`no conversation reference known for ${conversationKey}`);
  }
  const recurring = input.time !== undefined || input.pattern !== undefined || input.everyMs !== undefined;
  if (recurring === (input.at !== undefined))
    throw new Error('give either a time for a one-off message or a schedule for a recurring one');
  const cadence = recurring
    ? validateCadence({
        pattern: input.time !== undefined ? dailyPattern(input.time) : input.pattern,
        everyMs: input.everyMs,
      })
    : null;
  let runAt: Date | null = null;
  if (input.at instanceof Date) runAt = input.at;
  else if (input.at !== undefined) {
    const parsed = parseWhen(input.at, timezone, new Date());
    if (!parsed.ok) throw new Error(parsed.error);
    runAt = parsed.at;
  }
  const [row] = await ctx.db
    .insert(scheduledMessages)
    .values({
      id: randomUUID(),
      text,
      target: input.to === 'optins' ? 'optins' : 'conversation',
      conversationKey,
      ref,
      runAt,
      pattern: cadence?.pattern ?? null,
      everyMs: cadence?.everyMs ?? null,
      timezone,
      createdBy: input.createdBy ?? null,
    })
    .returning();
  await mirrorMessage(ctx, row!).catch((err: Error) =>
    ctx.log.warn({ message: row!.id, err: safeErr(err) }, 'mirror failed; the reconciler will apply it'),
  );
  return toMessage(row!);
}

export async function listScheduledMessages(ctx: SchedulerCtx): Promise<ScheduledMessage[]> {
  const rows = await ctx.db.select().from(scheduledMessages).orderBy(asc(scheduledMessages.createdAt));
  return rows.map((r) => toMessage(r));
}

/** Delete a scheduled message and its Redis jobs. Fan-out already under way stops at the next recipient. */
export async function removeScheduledMessage(ctx: SchedulerCtx, id: string): Promise<boolean> {
  const rows = await ctx.db
    .delete(scheduledMessages)
    .where(eq(scheduledMessages.id, id))
    .returning({ id: scheduledMessages.id });
  await ctx.queue
    .removeMessage(id)
    .catch((err: Error) => ctx.log.warn({ message: id, err: safeErr(err) }, 'job removal failed'));
  return rows.length > 0;
}

export async function loadMessage(ctx: SchedulerCtx, id: string): Promise<ScheduledMessageRow | null> {
  const [row] = await ctx.db.select().from(scheduledMessages).where(eq(scheduledMessages.id, id));
  return row ?? null;
}

/**
 * A scheduled message is due. Recurring ones later than the catch-up window are skipped (an announcement missed
 * during downtime is not worth a late broadcast); a one-off is sent late, once. The slot is claimed with a fenced
 * write, so a second run of an older slot does nothing and a re-run of the same slot repeats harmless steps.
 */
export async function fireMessage(ctx: SchedulerCtx, id: string, slot: number, now = new Date()): Promise<string> {
  const outcome = await fire(ctx, id, slot, now);
  schedulerFires.inc({ kind: 'message', outcome });
  return outcome;
}

async function fire(ctx: SchedulerCtx, id: string, slot: number, now: Date): Promise<string> {
  const row = await loadMessage(ctx, id);
  const recurring = !!(row?.pattern || row?.everyMs);
  if (!row?.enabled) {
    await ctx.queue.removeMessage(id).catch(() => undefined);
    return 'disabled';
  }
  if (recurring && now.getTime() - slot > ctx.settings.catchUpWindowMs) return 'late_skipped';
  if (row.lastSlot !== null && slot < row.lastSlot) return 'older_slot';
  if (row.lastSlot !== slot) {
    const claimed = await ctx.db
      .update(scheduledMessages)
      .set({ lastSlot: slot })
      .where(
        dsql`${scheduledMessages.id} = ${id} and ${scheduledMessages.lastSlot} is not distinct from ${row.lastSlot}`,
      )
      .returning({ id: scheduledMessages.id });
    if (!claimed.length && (await loadMessage(ctx, id))?.lastSlot !== slot) return 'raced';
  }
  if (row.target === 'optins') await ctx.queue.addFanoutBatch(id, slot, '');
  else {
    await ctx.deps.sink.submit(
      syntheticEvent({
        id: messageEventId(id, slot),
        ref: row.ref as ConversationRef,
        senderId: row.createdBy ?? 'scheduler',
        kind: 'reminder',
        now,
        text: announcementText(),
      }),
    );
  }
  if (!recurring)
    await ctx.db.update(scheduledMessages).set({ enabled: false, updatedAt: now }).where(eq(scheduledMessages.id, id));
  return 'fired';
}

/** Reserve the next free send slot of a platform; returns how long to wait for it (ms). */
async function reserveFanoutSlot(ctx: SchedulerCtx, platform: string): Promise<number> {
  const interval = Math.max(1, Math.floor(1000 / ctx.settings.fanoutPerSecond));
  return reserveSendSlot(ctx.deps.redis, ctx.keys.fanoutPace(platform), interval);
}

/** One page of recipients: a paced delayed job each, then the next page. */
export async function fanoutBatch(ctx: SchedulerCtx, messageId: string, slot: number, after: string): Promise<number> {
  if (!(await loadMessage(ctx, messageId))) return 0;
  const rows = await ctx.db
    .select({ id: checkins.id, ref: checkins.ref })
    .from(checkins)
    .where(and(eq(checkins.announcements, true), gt(checkins.id, after)))
    .orderBy(asc(checkins.id))
    .limit(FANOUT_BATCH);
  for (const r of rows) {
    const delay = await reserveFanoutSlot(ctx, (r.ref as ConversationRef).platform);
    await ctx.queue.addFanoutSend(messageId, slot, r.id, delay);
  }
  if (rows.length === FANOUT_BATCH) await ctx.queue.addFanoutBatch(messageId, slot, rows.at(-1)!.id);
  return rows.length;
}

/** One recipient: still opted in and the message still exists? Then its synthetic event. */
export async function fanoutSend(
  ctx: SchedulerCtx,
  messageId: string,
  slot: number,
  recipient: string,
  now = new Date(),
): Promise<string> {
  const [msg, row] = await Promise.all([loadMessage(ctx, messageId), loadCheckin(ctx, recipient)]);
  if (!msg) return 'removed';
  if (!row?.announcements) return 'opted_out';
  const ref = (await storedRef(ctx, row.conversationKey)) ?? (row.ref as ConversationRef);
  await ctx.deps.sink.submit(
    syntheticEvent({
      id: messageEventId(messageId, slot, recipient),
      ref,
      senderId: row.ownerId,
      kind: 'reminder',
      now,
      text: announcementText(),
    }),
  );
  return 'sent';
}
