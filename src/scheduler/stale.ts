/**
 * Stale conversation references: when a platform says the user blocked the bot, the chat is gone or the bot was
 * removed, the outbound stage marks the reply `failed` with `error = '<reason>: ...'` and never retries it. We turn
 * that conversation's proactive messages off (check-in and announcements, reason recorded; pending reminders
 * become 'undeliverable'), so nothing keeps knocking on a closed door.
 *
 * Detected without touching the spine, two ways:
 * - live: every worker listens to the "delivered" notifications (Redis pub/sub, published for failures too) and
 *   looks the failed outbox row up by its primary key;
 * - at fire time: before a check-in fires, the conversation's latest failed reply is compared with its latest sent
 *   one (pub/sub is best effort; this catches what it missed, at the cost of one more attempt at most).
 * The cleaner wiring, `onPermanentFailure` in DeliverDeps called with the typed error, is described in the report.
 */
import { and, desc, eq, sql as dsql } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import type { Delivered } from '../outbound/notifications.js';
import { outbox } from '../db/schema.js';
import { disableCheckinById } from './checkins.js';
import type { SchedulerCtx } from './context.js';
import { checkinId } from './ids.js';
import { reminders } from './schema.js';
import { safeErr } from '../observability/logger.js';

/** Reasons that mean the conversation itself is unreachable ('invalid' is about one message, not the chat). */
export const STALE_REASONS = ['blocked', 'not_found', 'forbidden'] as const;

/** The stale reason in an outbox error ("blocked: Forbidden: bot was blocked by the user"), or null. */
export function staleReason(error: string | null | undefined): string | null {
  if (!error) return null;
  const reason = error.split(':', 1)[0]!.trim();
  return (STALE_REASONS as readonly string[]).includes(reason) ? error.slice(0, 300) : null;
}

/**
 * The conversation's latest reply failed for a stale reason, after `since` (when the check-in was last turned on:
 * turning it on again is the user saying they are back), and nothing was sent after it? Two index lookups.
 */
export async function latestStaleFailure(
  ctx: SchedulerCtx,
  conversationKey: string,
  since: Date,
): Promise<string | null> {
  const latest = (status: string) =>
    ctx.db
      .select({ seq: outbox.seq, error: outbox.error, at: outbox.sentAt })
      .from(outbox)
      .where(and(eq(outbox.conversationKey, conversationKey), eq(outbox.status, status)))
      .orderBy(desc(outbox.seq))
      .limit(1);
  const [[failed], [sent]] = await Promise.all([latest('failed'), latest('sent')]);
  if (!failed || (sent && sent.seq > failed.seq) || !failed.at || failed.at < since) return null;
  return staleReason(failed.error);
}

/** Turn off everything proactive for a conversation that cannot be reached. Idempotent. */
export async function disableUnreachable(ctx: SchedulerCtx, conversationKey: string, reason: string): Promise<boolean> {
  const changed = await disableCheckinById(ctx, checkinId(conversationKey), reason, true);
  await ctx.db
    .update(reminders)
    .set({ status: 'undeliverable' })
    .where(and(eq(reminders.conversationKey, conversationKey), dsql`${reminders.status} in ('pending', 'fired')`));
  if (changed)
    ctx.log.warn(
      { conversation: conversationKey, reason: reason.split(':', 1)[0] },
      'conversation unreachable; proactive messages disabled',
    );
  return changed;
}

/** Listen for failed deliveries; returns the stop function. `sub` must be a dedicated connection. */
export async function watchFailedDeliveries(ctx: SchedulerCtx, sub: Redis): Promise<() => Promise<void>> {
  sub.on('message', (_channel: string, msg: string) => {
    let d: Delivered;
    try {
      d = JSON.parse(msg) as Delivered;
    } catch {
      return;
    }
    if (d.outcome !== 'failed') return;
    void (async () => {
      const [row] = await ctx.db.select({ error: outbox.error }).from(outbox).where(eq(outbox.turnId, d.turnId));
      const reason = staleReason(row?.error);
      if (reason) await disableUnreachable(ctx, d.conversationKey, reason);
    })().catch((err: Error) => ctx.log.warn({ err: safeErr(err) }, 'failed-delivery check failed'));
  });
  await sub.subscribe(ctx.deps.keys.delivered);
  return async () => {
    await sub.quit().catch(() => undefined);
  };
}
