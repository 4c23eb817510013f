/**
 * The reconciler: makes Redis mirror the database. One process at a time runs it (src/queue/reconciler.ts: a Redis
 * lease), at start-up, every SCHEDULER_RECONCILE_MS, and whenever the lease is (re)acquired. Each pass:
 *   1. snapshots the job schedulers in Redis (before reading the database: a setting changed during the pass is
 *      then either seen as new in the database, or already upserted by setCheckin; never rolled back);
 *   2. upserts a scheduler for every enabled check-in / recurring message whose scheduler is missing or differs;
 *   3. removes our schedulers that have no enabled row (re-checked by primary key just before removal);
 *   4. re-adds the delayed job of every pending reminder and unsent one-off message that lost it.
 * Stable scheduler ids mean an upsert can never create a second scheduler for one check-in.
 */
import { and, asc, eq, gt, inArray } from 'drizzle-orm';
import { startLeasedReconciler } from '../queue/reconciler.js';
import { cadenceOf, loadCheckin } from './checkins.js';
import type { SchedulerCtx } from './context.js';
import { checkinSchedulerId, messageSchedulerId, oneOffMessageJobId, parseSchedulerId, reminderJobId } from './ids.js';
import { loadMessage, mirrorMessage } from './messages.js';
import { sameSpec, schedulerSpec } from './queue.js';
import { checkins, reminders, scheduledMessages } from './schema.js';
import { validateCadence } from './slots.js';
import { safeErr } from '../observability/logger.js';

const PAGE = 2_000;
const PARALLEL = 64;

export interface ReconcileReport {
  checkins: number;
  upserted: number;
  removed: number;
  jobsAdded: number;
  failed: number;
  ms: number;
  complete: boolean;
}

async function pool(tasks: (() => Promise<unknown>)[], n: number, onError: (err: Error) => void): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, tasks.length) }, async () => {
      while (i < tasks.length) await tasks[i++]!().catch(onError);
    }),
  );
}

/** One pass. `keepGoing` is checked between pages: a holder that lost its lease stops early. */
export async function reconcile(ctx: SchedulerCtx, keepGoing: () => boolean = () => true): Promise<ReconcileReport> {
  const started = Date.now();
  const report: ReconcileReport = {
    checkins: 0,
    upserted: 0,
    removed: 0,
    jobsAdded: 0,
    failed: 0,
    ms: 0,
    complete: false,
  };
  const onError = (err: Error) => {
    report.failed++;
    ctx.log.warn({ err: safeErr(err) }, 'reconcile step failed');
  };
  const actual = await ctx.queue.allSchedulers();
  const wanted = new Set<string>();

  for (let after = ''; ; ) {
    const rows = await ctx.db
      .select({ id: checkins.id, pattern: checkins.pattern, everyMs: checkins.everyMs, timezone: checkins.timezone })
      .from(checkins)
      .where(and(eq(checkins.enabled, true), gt(checkins.id, after)))
      .orderBy(asc(checkins.id))
      .limit(PAGE);
    const tasks: (() => Promise<unknown>)[] = [];
    for (const r of rows) {
      const sid = checkinSchedulerId(r.id);
      wanted.add(sid);
      const spec = schedulerSpec(r.id, cadenceOf(r), r.timezone);
      const have = actual.get(sid);
      if (!have || !sameSpec(have, spec))
        tasks.push(() => ctx.queue.upsertCheckin(r.id, spec).then(() => report.upserted++));
    }
    await pool(tasks, PARALLEL, onError);
    report.checkins += rows.length;
    if (!keepGoing()) return { ...report, ms: Date.now() - started };
    if (rows.length < PAGE) break;
    after = rows.at(-1)!.id;
  }

  for (let after = ''; ; ) {
    const rows = await ctx.db
      .select()
      .from(scheduledMessages)
      .where(and(eq(scheduledMessages.enabled, true), gt(scheduledMessages.id, after)))
      .orderBy(asc(scheduledMessages.id))
      .limit(PAGE);
    const oneOffs = rows.filter((r) => !r.pattern && !r.everyMs && r.runAt);
    const states = await ctx.queue.jobStates(oneOffs.map((r) => oneOffMessageJobId(r.id)));
    for (const [jobId, state] of states) if (state === 'failed') await ctx.queue.removeJob(jobId);
    const tasks: (() => Promise<unknown>)[] = [];
    for (const r of rows) {
      if (r.pattern || r.everyMs) {
        const sid = messageSchedulerId(r.id);
        wanted.add(sid);
        const have = actual.get(sid);
        const spec = schedulerSpec(r.id, validateCadence({ pattern: r.pattern, everyMs: r.everyMs }), r.timezone);
        if (!have || !sameSpec(have, spec)) tasks.push(() => mirrorMessage(ctx, r).then(() => report.upserted++));
      } else if (r.runAt && states.get(oneOffMessageJobId(r.id)) !== 'live') {
        tasks.push(() => mirrorMessage(ctx, r).then(() => report.jobsAdded++));
      }
    }
    await pool(tasks, PARALLEL, onError);
    if (rows.length < PAGE) break;
    after = rows.at(-1)!.id;
  }

  const stray: (() => Promise<unknown>)[] = [];
  for (const sid of actual.keys()) {
    const ours = parseSchedulerId(sid);
    if (!ours || wanted.has(sid)) continue;
    stray.push(async () => {
      if (ours.kind === 'checkin') {
        if ((await loadCheckin(ctx, ours.id))?.enabled) return; // turned on during this pass
        await ctx.queue.removeCheckin(ours.id);
      } else {
        if ((await loadMessage(ctx, ours.id))?.enabled) return;
        await ctx.queue.removeMessage(ours.id);
      }
      report.removed++;
    });
  }
  await pool(stray, PARALLEL, onError);

  for (let after = ''; ; ) {
    // Pending reminders need a job; a fired one whose job failed (its submit kept failing) gets another go —
    // firing is idempotent (the synthetic event's id is the reminder's), so this can never deliver twice.
    const rows = await ctx.db
      .select({ id: reminders.id, dueAt: reminders.dueAt, status: reminders.status })
      .from(reminders)
      .where(and(inArray(reminders.status, ['pending', 'fired']), gt(reminders.id, after)))
      .orderBy(asc(reminders.id))
      .limit(PAGE);
    const states = await ctx.queue.jobStates(rows.map((r) => reminderJobId(r.id)));
    const redo = rows.filter((r) => {
      const state = states.get(reminderJobId(r.id));
      return r.status === 'pending' ? state !== 'live' : state === 'failed';
    });
    await pool(
      redo.map((r) => async () => {
        if (states.get(reminderJobId(r.id)) === 'failed') await ctx.queue.removeJob(reminderJobId(r.id));
        await ctx.queue.addReminder(r.id, r.dueAt);
        report.jobsAdded++;
      }),
      PARALLEL,
      onError,
    );
    if (rows.length < PAGE) break;
    after = rows.at(-1)!.id;
  }
  return { ...report, ms: Date.now() - started, complete: true };
}

/** Run the reconciler under a lease (the shared leased-reconciler loop); returns the stop function. */
export function startReconciler(ctx: SchedulerCtx): () => Promise<void> {
  return startLeasedReconciler({
    redis: ctx.deps.redis,
    leaseKey: ctx.deps.keys.lease('scheduler-reconcile'),
    everyMs: ctx.settings.reconcileMs,
    leaseTtlMs: ctx.settings.leaseTtlMs,
    log: ctx.log,
    what: 'schedules',
    pass: (keepGoing) => reconcile(ctx, keepGoing),
    onPass: (r) => ctx.log.info({ ...r }, 'schedules reconciled'),
  });
}
