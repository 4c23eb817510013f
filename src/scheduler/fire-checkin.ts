/**
 * A check-in's job scheduler fired: decide, cheaply, whether to start a turn, and if so submit the synthetic event.
 * Most fires of idle users end here without touching the model: disabled, unreachable, outside active hours,
 * budget spent, or a late duplicate. The decision reads one row by primary key and claims the slot with one
 * fenced write, so it stays cheap at 100,000 check-ins.
 */
import { sql as dsql } from 'drizzle-orm';
import { Counter } from 'prom-client';
import { registry } from '../observability/metrics.js';
import { activeHoursOf, cadenceOf, loadCheckin, storedConversation } from './checkins.js';
import type { SchedulerCtx } from './context.js';
import { checkinText, syntheticEvent } from './events.js';
import { checkinEventId } from './ids.js';
import { schedulerSpec } from './queue.js';
import { checkins } from './schema.js';
import { decideFire, inActiveHours, localDay, localStamp, nextSlotAfter } from './slots.js';
import { disableUnreachable, latestStaleFailure } from './stale.js';
import type { ConversationRef } from '../core/types.js';

export const schedulerFires = new Counter({
  name: 'gateway_scheduler_fires_total',
  help: 'Scheduler jobs by kind (checkin, reminder, message) and outcome (fired, outside_hours, budget, ...)',
  labelNames: ['kind', 'outcome'] as const,
  registers: [registry],
});

export type CheckinOutcome =
  | 'fired'
  | 'fired_catchup'
  | 'fired_again'
  | 'disabled'
  | 'unreachable'
  | 'outside_hours'
  | 'budget'
  | 'older_slot'
  | 'caught_up'
  | 'next_slot_soon'
  | 'raced'
  | 'unanswered';

/**
 * Claim `slot` for this check-in: a write fenced on the last slot we read, so of two concurrent runs (a stalled
 * job re-run, a second worker) exactly one moves the check-in forward.
 */
async function claimSlot(
  ctx: SchedulerCtx,
  id: string,
  readSlot: number | null,
  slot: number,
  now: Date,
): Promise<boolean> {
  const rows = await ctx.db
    .update(checkins)
    .set({ lastSlot: slot, lastFiredAt: now })
    .where(dsql`${checkins.id} = ${id} and ${checkins.lastSlot} is not distinct from ${readSlot}`)
    .returning({ id: checkins.id });
  return rows.length > 0;
}

/** `now` is injectable so tests can simulate a late job (downtime) on real Redis and Postgres. */
export async function fireCheckin(
  ctx: SchedulerCtx,
  id: string,
  slot: number,
  now = new Date(),
): Promise<CheckinOutcome> {
  const outcome = await decideAndSubmit(ctx, id, slot, now);
  schedulerFires.inc({ kind: 'checkin', outcome });
  ctx.log.debug({ checkin: id, slot, lateMs: now.getTime() - slot, outcome }, 'check-in fired');
  return outcome;
}

async function decideAndSubmit(ctx: SchedulerCtx, id: string, slot: number, now: Date): Promise<CheckinOutcome> {
  let row = await loadCheckin(ctx, id);
  if (!row?.enabled) {
    // A scheduler without an enabled row (a missed removal): heal now rather than at the next reconcile.
    await ctx.queue.removeCheckin(id).catch(() => undefined);
    return 'disabled';
  }
  const stale = await latestStaleFailure(ctx, row.conversationKey, row.enabledAt);
  if (stale) {
    await disableUnreachable(ctx, row.conversationKey, stale);
    return 'unreachable';
  }
  // Active hours are read at run time, not slot time: a late job outside the window is dropped, not queued up.
  if (!inActiveHours(activeHoursOf(row), row.timezone, now)) return 'outside_hours';
  if (row.tokenBudget > 0 && row.tokensDay === localDay(row.timezone, now) && row.tokensUsed >= row.tokenBudget)
    return 'budget';

  const cadence = cadenceOf(row);
  const next = nextSlotAfter(cadence, row.timezone, now.getTime(), schedulerSpec(id, cadence, row.timezone).offset);
  const decision = decideFire(
    { lastSlot: row.lastSlot, lastFiredAt: row.lastFiredAt?.getTime() ?? null },
    slot,
    now.getTime(),
    ctx.settings.catchUpWindowMs,
    next,
  );
  if (!decision.fire) return decision.reason;
  const conversation = await storedConversation(ctx, row.conversationKey);
  // No token burn on idle users: a check-in nobody answered is not followed by another until they write again.
  if (!decision.again && ctx.settings.skipUnanswered && row.lastFiredAt) {
    // Switching the check-in on (again) counts as an answer: the user asked for it.
    const wrote = Math.max(conversation?.lastMessageAt?.getTime() ?? 0, row.enabledAt.getTime());
    if (wrote < row.lastFiredAt.getTime()) return 'unanswered';
  }
  if (!decision.again && !(await claimSlot(ctx, id, row.lastSlot, slot, now))) {
    row = await loadCheckin(ctx, id);
    if (row?.lastSlot !== slot) return 'raced';
  }
  const ref = conversation?.ref ?? (row!.ref as ConversationRef);
  await ctx.deps.sink.submit(
    syntheticEvent({
      id: checkinEventId(id, slot),
      ref,
      senderId: row!.ownerId,
      kind: 'checkin',
      now,
      text: checkinText(localStamp(row!.timezone, now), row!.prompt, decision.catchUp),
    }),
  );
  return decision.again ? 'fired_again' : decision.catchUp ? 'fired_catchup' : 'fired';
}
