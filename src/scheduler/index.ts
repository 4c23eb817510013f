/**
 * The scheduler module: proactive check-ins, reminders and scheduled messages.
 *
 * The database is the source of truth (checkins, reminders, scheduled_messages); BullMQ job schedulers and delayed
 * jobs mirror it, kept in step by a reconciler under a Redis lease. A fired job is a small idempotent step that
 * ends, if anything is due, in a SYNTHETIC inbound event submitted through the normal ingress sink — so a check-in
 * or reminder takes the same path as a user's message: one turn per conversation, session, memory, outbox, paced
 * delivery. See README-style notes in each file. The module provides its context as the `scheduler` service; the
 * functions the commands module needs take it and are exported below.
 */
import { defineModule } from '../modules/contract.js';
import { createSchedulerContext, type SchedulerCtx } from './context.js';
import { schedulerHooks } from './hooks.js';
import { schedulerOfflineTurn } from './offline.js';
import { reconcile } from './reconcile.js';
import { reminderTools } from './tools.js';
import { startSchedulerWorker } from './worker.js';

export { disableCheckin, getCheckin, setCheckin, type Checkin, type CheckinInput } from './checkins.js';
export {
  listScheduledMessages,
  removeScheduledMessage,
  scheduleMessage,
  type ScheduleMessageInput,
  type ScheduledMessage,
} from './messages.js';
export {
  dailyPattern,
  dailyTimeOf,
  describeCadence,
  isValidTimezone,
  type ActiveHours,
  type Cadence,
} from './slots.js';
export type { SchedulerCtx } from './context.js';

declare module '../modules/contract.js' {
  interface Services {
    scheduler: SchedulerCtx;
  }
}

/** Re-mirror the database to Redis now (an admin "repair" command, tests). */
export function reconcileSchedules(ctx: SchedulerCtx) {
  return reconcile(ctx);
}

export const schedulerModule = defineModule({
  name: 'scheduler',
  provides: ['scheduler'],
  create(deps) {
    const ctx = createSchedulerContext(deps);
    return {
      name: 'scheduler',
      provides: { scheduler: ctx },
      tools: reminderTools(ctx),
      hooks: schedulerHooks(ctx),
      offlineTurns: [schedulerOfflineTurn],
      startWorker: () => startSchedulerWorker(ctx),
    };
  },
});
