/**
 * Check-in settings: the functions the commands module calls (`/checkin on | off | time | timezone`), and the
 * database access the fire path needs. The database row is written first (the truth); the Redis job scheduler is
 * then upserted or removed right away, and if Redis is unreachable the reconciler applies it on its next pass.
 */
import { eq, sql as dsql } from 'drizzle-orm';
import { conversationKey as keyOf, type ConversationRef } from '../core/types.js';
import { conversations } from '../db/schema.js';
import type { SchedulerCtx } from './context.js';
import { checkinId } from './ids.js';
import { schedulerSpec } from './queue.js';
import { checkins, type CheckinRow } from './schema.js';
import {
  dailyPattern,
  dailyTimeOf,
  describeCadence,
  isValidTimezone,
  localDay,
  nextSlotAfter,
  parseHhmm,
  validateCadence,
  type ActiveHours,
  type Cadence,
} from './slots.js';
import { safeErr } from '../observability/logger.js';

export interface CheckinInput {
  /** The conversation: its reference (a command invocation has it) or the key of a conversation the bot knows. */
  ref?: ConversationRef;
  conversationKey?: string;
  /** Platform user id of whoever sets it; defaults to the DM's user. */
  ownerId?: string;
  enabled?: boolean;
  /** Daily at this local time ('09:00'); shorthand for a cron pattern. */
  time?: string;
  pattern?: string | null;
  everyMs?: number | null;
  timezone?: string;
  activeHours?: ActiveHours | null;
  tokenBudget?: number;
  prompt?: string | null;
  announcements?: boolean;
}

export interface Checkin {
  id: string;
  conversationKey: string;
  ref: ConversationRef;
  ownerId: string;
  enabled: boolean;
  cadence: Cadence;
  /** 'HH:mm' when the cadence is daily at a time (what `/checkin time` sets). */
  time?: string;
  /** The cadence for people: "daily 09:00 (Europe/Berlin)". */
  schedule: string;
  timezone: string;
  activeHours: ActiveHours | null;
  tokenBudget: number;
  tokensUsedToday: number;
  prompt: string | null;
  announcements: boolean;
  disabledReason: string | null;
  /** When it fires next (null when disabled). */
  nextAt: Date | null;
}

export const DEFAULT_CHECKIN_TIME = '09:00';

export function cadenceOf(row: Pick<CheckinRow, 'pattern' | 'everyMs'>): Cadence {
  return row.everyMs ? { everyMs: row.everyMs } : { pattern: row.pattern ?? dailyPattern(DEFAULT_CHECKIN_TIME) };
}

export function activeHoursOf(row: Pick<CheckinRow, 'activeFrom' | 'activeTo'>): ActiveHours | null {
  return row.activeFrom && row.activeTo ? { from: row.activeFrom, to: row.activeTo } : null;
}

export function toCheckin(row: CheckinRow, now = new Date()): Checkin {
  const cadence = cadenceOf(row);
  const spec = schedulerSpec(row.id, cadence, row.timezone);
  return {
    id: row.id,
    conversationKey: row.conversationKey,
    ref: row.ref as ConversationRef,
    ownerId: row.ownerId,
    enabled: row.enabled,
    cadence,
    time: dailyTimeOf(cadence.pattern),
    schedule: describeCadence(cadence, row.timezone),
    timezone: row.timezone,
    activeHours: activeHoursOf(row),
    tokenBudget: row.tokenBudget,
    tokensUsedToday: row.tokensDay === localDay(row.timezone, now) ? row.tokensUsed : 0,
    prompt: row.prompt,
    announcements: row.announcements,
    disabledReason: row.disabledReason,
    nextAt: row.enabled ? new Date(nextSlotAfter(cadence, row.timezone, now.getTime(), spec.offset)) : null,
  };
}

export async function loadCheckin(ctx: SchedulerCtx, id: string): Promise<CheckinRow | null> {
  const [row] = await ctx.db.select().from(checkins).where(eq(checkins.id, id));
  return row ?? null;
}

/**
 * What the worker writes on every turn of a conversation: its freshest reference, and when a person last wrote
 * there (turns of check-ins and reminders do not count). One primary-key read.
 */
export async function storedConversation(
  ctx: SchedulerCtx,
  conversationKey: string,
): Promise<{ ref: ConversationRef; lastMessageAt: Date | null } | null> {
  const [row] = await ctx.db
    .select({ ref: conversations.ref, lastMessageAt: conversations.lastMessageAt })
    .from(conversations)
    .where(eq(conversations.key, conversationKey));
  return row ? { ref: row.ref as ConversationRef, lastMessageAt: row.lastMessageAt } : null;
}

/** The freshest reference of a conversation. */
export async function storedRef(ctx: SchedulerCtx, conversationKey: string): Promise<ConversationRef | null> {
  return (await storedConversation(ctx, conversationKey))?.ref ?? null;
}

async function resolveConversation(
  ctx: SchedulerCtx,
  input: { ref?: ConversationRef; conversationKey?: string },
): Promise<{ key: string; ref: ConversationRef | null }> {
  if (input.ref) return { key: keyOf(input.ref), ref: input.ref };
  if (!input.conversationKey) throw new Error('a conversation reference or key is required');
  return { key: input.conversationKey, ref: await storedRef(ctx, input.conversationKey) };
}

/** Mirror one row to Redis now; failures are logged and left to the reconciler. */
export async function mirrorCheckin(ctx: SchedulerCtx, row: CheckinRow): Promise<void> {
  try {
    if (row.enabled) await ctx.queue.upsertCheckin(row.id, schedulerSpec(row.id, cadenceOf(row), row.timezone));
    else await ctx.queue.removeCheckin(row.id);
  } catch (err) {
    ctx.log.warn(
      { checkin: row.id, err: safeErr(err) },
      'check-in mirror to Redis failed; the reconciler will apply it',
    );
  }
}

/** Create or change a conversation's check-in (fields not given keep their value; a new one defaults to daily 09:00). */
export async function setCheckin(ctx: SchedulerCtx, input: CheckinInput): Promise<Checkin> {
  const { key, ref } = await resolveConversation(ctx, input);
  const id = checkinId(key);
  const prev = await loadCheckin(ctx, id);
  const theRef = ref ?? (prev?.ref as ConversationRef | undefined);
  if (!theRef) throw new Error(`no conversation reference known for ${key}: the bot must have talked there first`);
  const timezone = input.timezone ?? prev?.timezone ?? ctx.settings.defaultTimezone;
  if (!isValidTimezone(timezone))
    throw new Error(`unknown timezone "${timezone}" (use an IANA name such as Europe/Berlin)`);
  const cadenceGiven = input.time !== undefined || input.pattern !== undefined || input.everyMs !== undefined;
  const cadence = cadenceGiven
    ? validateCadence({
        pattern: input.time !== undefined ? dailyPattern(input.time) : input.pattern,
        everyMs: input.everyMs,
      })
    : prev
      ? cadenceOf(prev)
      : { pattern: dailyPattern(DEFAULT_CHECKIN_TIME) };
  const hours = input.activeHours !== undefined ? input.activeHours : prev ? activeHoursOf(prev) : null;
  if (hours && (parseHhmm(hours.from) === null || parseHhmm(hours.to) === null))
    throw new Error('active hours must look like 08:00-22:00');
  const enabled = input.enabled ?? prev?.enabled ?? true;
  const values = {
    id,
    conversationKey: key,
    ref: theRef,
    ownerId: input.ownerId ?? prev?.ownerId ?? theRef.user ?? 'scheduler',
    enabled,
    enabledAt: enabled && !prev?.enabled ? new Date() : (prev?.enabledAt ?? new Date()),
    pattern: cadence.pattern ?? null,
    everyMs: cadence.everyMs ?? null,
    timezone,
    activeFrom: hours?.from ?? null,
    activeTo: hours?.to ?? null,
    tokenBudget: input.tokenBudget ?? prev?.tokenBudget ?? ctx.settings.checkinTokenBudget,
    prompt: input.prompt !== undefined ? input.prompt : (prev?.prompt ?? null),
    announcements: input.announcements ?? prev?.announcements ?? false,
    // Turning it on (again) clears why it was off, including a stale-reference reason: the user is back.
    disabledReason: enabled ? null : (prev?.disabledReason ?? 'user'),
    disabledAt: enabled ? null : (prev?.disabledAt ?? new Date()),
    updatedAt: new Date(),
  };
  const { id: _id, ...update } = values;
  const [row] = await ctx.db
    .insert(checkins)
    .values(values)
    .onConflictDoUpdate({ target: checkins.id, set: update })
    .returning();
  await mirrorCheckin(ctx, row!);
  return toCheckin(row!);
}

export async function getCheckin(ctx: SchedulerCtx, conversation: string | ConversationRef): Promise<Checkin | null> {
  const row = await loadCheckin(ctx, checkinId(typeof conversation === 'string' ? conversation : keyOf(conversation)));
  return row ? toCheckin(row) : null;
}

/** Turn a check-in off, recording why ('user', 'admin', or a delivery failure). False if there was none to turn off. */
export async function disableCheckin(
  ctx: SchedulerCtx,
  conversation: string | ConversationRef,
  reason = 'user',
): Promise<boolean> {
  return disableCheckinById(
    ctx,
    checkinId(typeof conversation === 'string' ? conversation : keyOf(conversation)),
    reason,
  );
}

export async function disableCheckinById(
  ctx: SchedulerCtx,
  id: string,
  reason: string,
  alsoAnnouncements = false,
): Promise<boolean> {
  const rows = await ctx.db
    .update(checkins)
    .set({
      enabled: false,
      disabledReason: reason,
      disabledAt: new Date(),
      updatedAt: new Date(),
      ...(alsoAnnouncements ? { announcements: false } : {}),
    })
    .where(
      dsql`${checkins.id} = ${id} and (${checkins.enabled} or ${alsoAnnouncements ? checkins.announcements : dsql`false`})`,
    )
    .returning({ id: checkins.id });
  await ctx.queue
    .removeCheckin(id)
    .catch((err: Error) =>
      ctx.log.warn({ checkin: id, err: safeErr(err) }, 'scheduler removal failed; the reconciler will remove it'),
    );
  return rows.length > 0;
}

/** Check-in turns spend from the check-in's daily budget (a write-only update: no read, no SSI conflicts). */
export async function addCheckinTokens(ctx: SchedulerCtx, id: string, day: string, tokens: number): Promise<void> {
  await ctx.db
    .update(checkins)
    .set({
      tokensUsed: dsql`case when ${checkins.tokensDay} = ${day} then ${checkins.tokensUsed} + ${tokens} else ${tokens} end`,
      tokensDay: day,
    })
    .where(eq(checkins.id, id));
}
