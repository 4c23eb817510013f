/**
 * What every part of the scheduler shares: the module deps, its BullMQ queue (a producer on the shared
 * connection) and its settings. The module builds one and provides it as the `scheduler` service, so the functions
 * the commands module calls (`setCheckin(ctx, ...)`) and the module's own workers use the same queue object.
 */
import type { Logger } from 'pino';
import type { ModuleDeps } from '../modules/contract.js';
import type { Db } from '../db/client.js';
import { schedulerKeys } from './ids.js';
import { SchedulerQueue } from './queue.js';

export interface SchedulerSettings {
  reconcileMs: number;
  leaseTtlMs: number;
  catchUpWindowMs: number;
  concurrency: number;
  checkinHistory: number;
  checkinTokenBudget: number;
  defaultTimezone: string;
  fanoutPerSecond: number;
  /** Hold a check-in while the previous one is unanswered (the user has not written since it fired). */
  skipUnanswered: boolean;
}

export interface SchedulerCtx {
  deps: ModuleDeps;
  db: Db;
  queue: SchedulerQueue;
  log: Logger;
  settings: SchedulerSettings;
  keys: ReturnType<typeof schedulerKeys>;
}

export function createSchedulerContext(deps: ModuleDeps): SchedulerCtx {
  const c = deps.config;
  const log = deps.log.child({ module: 'scheduler' });
  return {
    deps,
    log,
    db: deps.database.db,
    queue: new SchedulerQueue(deps.queueRedis, deps.keys.bullPrefix),
    keys: schedulerKeys(c.KEY_PREFIX),
    settings: {
      reconcileMs: c.SCHEDULER_RECONCILE_MS,
      leaseTtlMs: c.SCHEDULER_LEASE_TTL_MS,
      catchUpWindowMs: c.SCHEDULER_CATCHUP_WINDOW_MS,
      concurrency: c.SCHEDULER_CONCURRENCY,
      checkinHistory: c.SCHEDULER_CHECKIN_HISTORY,
      checkinTokenBudget: c.SCHEDULER_CHECKIN_TOKEN_BUDGET,
      defaultTimezone: c.SCHEDULER_DEFAULT_TIMEZONE,
      fanoutPerSecond: c.SCHEDULER_FANOUT_PER_SECOND,
      skipUnanswered: c.SCHEDULER_SKIP_UNANSWERED,
    },
  };
}
