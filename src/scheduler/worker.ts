/**
 * The scheduler's background work in worker processes: the BullMQ worker that runs fired jobs (each a small,
 * idempotent step ending in a synthetic event), the reconciler under its lease, and the failed-delivery watcher.
 */
import { Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { SchedulerCtx } from './context.js';
import { fireCheckin } from './fire-checkin.js';
import { parseSchedulerId } from './ids.js';
import { fanoutBatch, fanoutSend, fireMessage } from './messages.js';
import { JOB, SCHEDULER_QUEUE } from './queue.js';
import { startReconciler } from './reconcile.js';
import { fireReminder } from './reminders.js';
import { watchFailedDeliveries } from './stale.js';
import { safeErr } from '../observability/logger.js';

/** The slot a scheduler job was created for: BullMQ names its jobs `repeat:<scheduler id>:<slot ms>`. */
export function slotOf(job: Pick<Job, 'id' | 'timestamp' | 'delay'>): number {
  const last = Number(job.id?.split(':').at(-1));
  return Number.isFinite(last) && last > 0 ? last : job.timestamp + (job.delay ?? 0);
}

export async function runJob(ctx: SchedulerCtx, job: Job): Promise<unknown> {
  switch (job.name) {
    case JOB.checkin: {
      const s = parseSchedulerId(job.repeatJobKey ?? '');
      return s?.kind === 'checkin' ? fireCheckin(ctx, s.id, slotOf(job)) : 'not_ours';
    }
    case JOB.message: {
      const s = parseSchedulerId(job.repeatJobKey ?? '');
      if (s?.kind === 'msg') return fireMessage(ctx, s.id, slotOf(job));
      const d = job.data as { id: string; slot: number };
      return fireMessage(ctx, d.id, d.slot);
    }
    case JOB.reminder:
      return fireReminder(ctx, (job.data as { id: string }).id);
    case JOB.fanout: {
      const d = job.data as { messageId: string; slot: number; after: string };
      return fanoutBatch(ctx, d.messageId, d.slot, d.after);
    }
    case JOB.fanoutSend: {
      const d = job.data as { messageId: string; slot: number; recipient: string };
      return fanoutSend(ctx, d.messageId, d.slot, d.recipient);
    }
    default:
      ctx.log.warn({ name: job.name }, 'unknown scheduler job dropped');
      return 'unknown';
  }
}

export async function startSchedulerWorker(ctx: SchedulerCtx): Promise<() => Promise<void>> {
  const worker = new Worker(SCHEDULER_QUEUE, (job) => runJob(ctx, job), {
    connection: ctx.deps.connect() as ConnectionOptions,
    prefix: ctx.deps.keys.bullPrefix,
    concurrency: ctx.settings.concurrency,
  });
  worker.on('failed', (job, err) =>
    ctx.log.warn({ job: job?.id, attempts: job?.attemptsMade, err: safeErr(err) }, 'scheduler job failed'),
  );
  worker.on('error', (err) => ctx.log.error({ err: safeErr(err) }, 'scheduler worker error'));
  const stopReconciler = startReconciler(ctx);
  const stopWatching = await watchFailedDeliveries(ctx, ctx.deps.connect());
  return async () => {
    await stopReconciler();
    await stopWatching();
    await worker.close();
  };
}
