/**
 * Reminders set from chat: stored in the database, mirrored as one delayed BullMQ job each (stable job id), and
 * delivered as a synthetic `reminder` event whose turn answers with the reminder text without running the model.
 * Exactly one message: the job id dedupes the job, the event id (`reminder:<id>`) dedupes the turn, and the turn's
 * single outbox row is sent once.
 */
import { and, eq, sql as dsql } from 'drizzle-orm';
import { DateTime } from 'luxon';
import type { TurnContext } from '../core/module.js';
import { loadCheckin } from './checkins.js';
import type { SchedulerCtx } from './context.js';
import { reminderText, syntheticEvent } from './events.js';
import { checkinId, reminderEventId, reminderId } from './ids.js';
import { reminders, type ReminderRow } from './schema.js';
import { parseWhen } from './when.js';
import { schedulerFires } from './fire-checkin.js';

export const MAX_PENDING_REMINDERS = 50;
const MAX_AHEAD_MS = 366 * 24 * 3600 * 1000;

export const shortId = (id: string): string => id.slice(1, 7);

/** The user's timezone: their DM check-in's, else this conversation's check-in's, else the default. */
export async function userTimezone(
  ctx: SchedulerCtx,
  turn: Pick<TurnContext, 'ref' | 'sender' | 'conversationKey'>,
): Promise<string> {
  const dm = `${turn.ref.platform}:${turn.ref.tenant}:dm:${turn.sender.id}`;
  for (const key of dm === turn.conversationKey ? [dm] : [dm, turn.conversationKey]) {
    const row = await loadCheckin(ctx, checkinId(key));
    if (row) return row.timezone;
  }
  return ctx.settings.defaultTimezone;
}

export function describeReminder(r: Pick<ReminderRow, 'id' | 'text' | 'dueAt' | 'timezone'>): string {
  return `[${shortId(r.id)}] ${DateTime.fromJSDate(r.dueAt, { zone: r.timezone }).toFormat('ccc yyyy-LL-dd HH:mm')} (${r.timezone}): ${r.text}`;
}

export async function pendingReminders(
  ctx: SchedulerCtx,
  userKey: string,
  conversationKey: string,
): Promise<ReminderRow[]> {
  const rows = await ctx.db
    .select()
    .from(reminders)
    .where(
      and(
        eq(reminders.conversationKey, conversationKey),
        eq(reminders.userKey, userKey),
        eq(reminders.status, 'pending'),
      ),
    );
  return rows.sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime());
}

/** How many reminders each turn has set so far (its ordinal keys the next one's id). */
const setInTurn = new WeakMap<TurnContext, number>();

/**
 * Set a reminder for the person of this turn. "now" is when they wrote (the last event's receipt time). The id is
 * the turn's first event and the reminder's ordinal in the turn, so a re-run of the turn sets it once.
 */
export async function setReminder(ctx: SchedulerCtx, turn: TurnContext, text: string, when: string): Promise<string> {
  const what = text.trim();
  if (!what) return 'Nothing to remind: the reminder text is empty.';
  const tz = await userTimezone(ctx, turn);
  const wroteAt = new Date(turn.events.at(-1)?.receivedAt ?? turn.now);
  const parsed = parseWhen(when, tz, wroteAt);
  if (!parsed.ok)
    return `Could not set the reminder: ${parsed.error}. Try "in 10 minutes", "tomorrow at 9" or "2025-06-01 09:00".`;
  if (parsed.at.getTime() < wroteAt.getTime() - 60_000) return `Could not set the reminder: ${when} is in the past.`;
  if (parsed.at.getTime() - wroteAt.getTime() > MAX_AHEAD_MS)
    return 'Could not set the reminder: at most a year ahead.';
  if ((await pendingReminders(ctx, turn.userKey, turn.conversationKey)).length >= MAX_PENDING_REMINDERS) {
    return `Could not set the reminder: you already have ${MAX_PENDING_REMINDERS} pending. Cancel one first.`;
  }
  const ordinal = setInTurn.get(turn) ?? 0;
  setInTurn.set(turn, ordinal + 1);
  const row = {
    id: reminderId(turn.events[0]?.id ?? turn.turnId, ordinal),
    userKey: turn.userKey,
    conversationKey: turn.conversationKey,
    ref: turn.ref,
    senderId: turn.sender.id,
    text: what.slice(0, 1_000),
    dueAt: parsed.at,
    timezone: tz,
  };
  await ctx.db.insert(reminders).values(row).onConflictDoNothing();
  await ctx.queue.addReminder(row.id, row.dueAt);
  return `Reminder set for ${describeReminder(row)}`;
}

export async function cancelReminder(
  ctx: SchedulerCtx,
  userKey: string,
  conversationKey: string,
  id: string,
): Promise<ReminderRow | null> {
  const wanted = id.trim().replace(/^\[|\]$/g, '');
  if (!wanted) return null;
  const match = (await pendingReminders(ctx, userKey, conversationKey)).find(
    (r) => r.id === wanted || shortId(r.id) === wanted,
  );
  if (!match) return null;
  const [row] = await ctx.db
    .update(reminders)
    .set({ status: 'cancelled' })
    .where(and(eq(reminders.id, match.id), eq(reminders.status, 'pending')))
    .returning();
  if (row) await ctx.queue.removeReminder(row.id);
  return row ?? null;
}

export type ReminderOutcome = 'fired' | 'missing' | 'cancelled' | 'delivered' | 'undeliverable';

/** The delayed job ran: mark it fired and submit the event (again, harmlessly, if the job runs twice). */
export async function fireReminder(ctx: SchedulerCtx, id: string, now = new Date()): Promise<ReminderOutcome> {
  const [row] = await ctx.db
    .update(reminders)
    .set({ status: 'fired', firedAt: now })
    .where(dsql`${reminders.id} = ${id} and ${reminders.status} in ('pending', 'fired')`)
    .returning();
  let outcome: ReminderOutcome = 'fired';
  if (!row) {
    const [gone] = await ctx.db.select({ status: reminders.status }).from(reminders).where(eq(reminders.id, id));
    outcome = (gone?.status as ReminderOutcome | undefined) ?? 'missing';
  } else {
    await ctx.deps.sink.submit(
      syntheticEvent({
        id: reminderEventId(id),
        ref: row.ref as TurnContext['ref'],
        senderId: row.senderId,
        kind: 'reminder',
        now,
        text: reminderText(row.text),
      }),
    );
  }
  schedulerFires.inc({ kind: 'reminder', outcome });
  return outcome;
}

/** The reminder's text for its delivery turn, or null when it was cancelled meanwhile. */
export async function reminderForDelivery(ctx: SchedulerCtx, id: string): Promise<string | null> {
  const [row] = await ctx.db
    .select({ text: reminders.text, status: reminders.status })
    .from(reminders)
    .where(eq(reminders.id, id));
  return row && (row.status === 'fired' || row.status === 'delivered') ? row.text : null;
}

export async function markReminderDelivered(ctx: SchedulerCtx, id: string): Promise<void> {
  await ctx.db
    .update(reminders)
    .set({ status: 'delivered' })
    .where(and(eq(reminders.id, id), eq(reminders.status, 'fired')));
}
