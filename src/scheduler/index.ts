/**
 * The scheduler module: proactive check-ins, reminders and scheduled messages.
 *
 * The database is the source of truth (checkins, reminders, scheduled_messages); BullMQ job schedulers and delayed
 * jobs mirror it, kept in step by a reconciler under a Redis lease. A fired job is a small idempotent step that
 * ends, if anything is due, in a SYNTHETIC inbound event submitted through the normal ingress sink — so a check-in
 * or reminder takes the same path as a user's message: one turn per conversation, session, memory, outbox, paced
 * delivery. See README-style notes in each file; the functions the commands module needs are exported below.
 */
import type { GatewayModule, ModuleDeps } from '../core/module.js';
import { schedulerContext } from './context.js';
import { schedulerHooks } from './hooks.js';
import { reconcile } from './reconcile.js';
import { reminderTools } from './tools.js';
import { startSchedulerWorker } from './worker.js';

export { disableCheckin, getCheckin, setCheckin, type Checkin, type CheckinInput } from './checkins.js';
export { listScheduledMessages, removeScheduledMessage, scheduleMessage, type ScheduleMessageInput, type ScheduledMessage } from './messages.js';
export { dailyPattern, dailyTimeOf, describeCadence, isValidTimezone, type ActiveHours, type Cadence } from './slots.js';

/** Re-mirror the database to Redis now (an admin "repair" command, tests). */
export function reconcileSchedules(deps: ModuleDeps) {
  return reconcile(schedulerContext(deps));
}

export function createSchedulerModule(deps: ModuleDeps): GatewayModule {
  const ctx = schedulerContext(deps);
  return {
    name: 'scheduler',
    tools: reminderTools(ctx),
    hooks: schedulerHooks(ctx),
    startWorker: () => startSchedulerWorker(ctx),
  };
}
