/**
 * The scheduler's BullMQ queue and the Redis mirror of the database: one job scheduler per enabled check-in or
 * recurring scheduled message (stable id, so upserting twice is one scheduler), one delayed job per pending
 * reminder or one-off message (stable job id, so adding twice is one job), and the announcement fan-out jobs.
 * Job data carries ids only; the worker reads everything else from the database when the job runs.
 */
import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { QUEUE_NAMES } from '../queue/keys.js';
import {
  checkinSchedulerId,
  fanoutBatchJobId,
  fanoutSendJobId,
  messageSchedulerId,
  oneOffMessageJobId,
  reminderJobId,
} from './ids.js';
import { everyOffset, type Cadence } from './slots.js';

export const SCHEDULER_QUEUE = QUEUE_NAMES.scheduler;
export const JOB = {
  checkin: 'checkin',
  message: 'message',
  reminder: 'reminder',
  fanout: 'fanout',
  fanoutSend: 'fanout-send',
} as const;

/** Small on purpose: these options are stored with every scheduled job (100,000 check-ins = 100,000 copies). */
const jobOpts: JobsOptions = {
  removeOnComplete: true,
  removeOnFail: { count: 1_000 },
  attempts: 5,
  backoff: { type: 'exponential', delay: 1_000 },
};

export interface SchedulerSpec {
  pattern?: string;
  every?: number;
  tz?: string;
  offset?: number;
}

/** What the job scheduler for a cadence looks like; the reconciler compares it with what Redis holds. */
export function schedulerSpec(id: string, c: Cadence, tz: string): SchedulerSpec {
  return c.everyMs ? { every: c.everyMs, offset: everyOffset(id, c.everyMs) } : { pattern: c.pattern, tz };
}

export function sameSpec(a: SchedulerSpec, b: SchedulerSpec): boolean {
  if (a.every || b.every) return a.every === b.every && (a.offset ?? 0) === (b.offset ?? 0);
  return a.pattern === b.pattern && (a.tz ?? 'UTC') === (b.tz ?? 'UTC');
}

export interface MirroredScheduler extends SchedulerSpec {
  key: string;
  next?: number;
}

export class SchedulerQueue {
  readonly queue: Queue;

  constructor(
    private readonly redis: Redis,
    bullPrefix: string,
  ) {
    this.queue = new Queue(SCHEDULER_QUEUE, { connection: redis as ConnectionOptions, prefix: bullPrefix });
  }

  async upsertCheckin(id: string, spec: SchedulerSpec): Promise<void> {
    await this.queue.upsertJobScheduler(checkinSchedulerId(id), spec, { name: JOB.checkin, data: {}, opts: jobOpts });
  }

  async removeCheckin(id: string): Promise<void> {
    await this.queue.removeJobScheduler(checkinSchedulerId(id));
  }

  async upsertMessage(id: string, spec: SchedulerSpec): Promise<void> {
    await this.queue.upsertJobScheduler(messageSchedulerId(id), spec, { name: JOB.message, data: {}, opts: jobOpts });
  }

  async removeMessage(id: string): Promise<void> {
    await this.queue.removeJobScheduler(messageSchedulerId(id));
    await this.queue.remove(oneOffMessageJobId(id)).catch(() => 0);
  }

  async addOneOffMessage(id: string, runAt: Date): Promise<void> {
    await this.queue.add(
      JOB.message,
      { id, slot: runAt.getTime() },
      { ...jobOpts, jobId: oneOffMessageJobId(id), delay: Math.max(0, runAt.getTime() - Date.now()) },
    );
  }

  async addReminder(id: string, dueAt: Date): Promise<void> {
    await this.queue.add(
      JOB.reminder,
      { id },
      { ...jobOpts, jobId: reminderJobId(id), delay: Math.max(0, dueAt.getTime() - Date.now()) },
    );
  }

  async removeReminder(id: string): Promise<void> {
    await this.queue.remove(reminderJobId(id)).catch(() => 0);
  }

  async addFanoutBatch(messageId: string, slot: number, after: string): Promise<void> {
    await this.queue.add(
      JOB.fanout,
      { messageId, slot, after },
      { ...jobOpts, jobId: fanoutBatchJobId(messageId, slot, after) },
    );
  }

  async addFanoutSend(messageId: string, slot: number, recipient: string, delayMs: number): Promise<void> {
    await this.queue.add(
      JOB.fanoutSend,
      { messageId, slot, recipient },
      { ...jobOpts, jobId: fanoutSendJobId(messageId, slot, recipient), delay: delayMs },
    );
  }

  /**
   * The state of each of these jobs in Redis: 'live' (waiting, delayed, active), 'failed' (ran out of attempts:
   * a database outage longer than the back-off, say), or 'missing'. Pipelined, two commands per id.
   */
  async jobStates(jobIds: string[]): Promise<Map<string, 'live' | 'failed' | 'missing'>> {
    const out = new Map<string, 'live' | 'failed' | 'missing'>();
    if (!jobIds.length) return out;
    const p = this.redis.pipeline();
    for (const id of jobIds) p.exists(this.queue.toKey(id)).hget(this.queue.toKey(id), 'finishedOn');
    const res = (await p.exec()) ?? [];
    jobIds.forEach((id, i) => {
      const exists = res[2 * i]?.[1] === 1;
      const finished = res[2 * i + 1]?.[1] != null;
      out.set(id, !exists ? 'missing' : finished ? 'failed' : 'live');
    });
    return out;
  }

  /** A failed job keeps its id: remove it so the same job id can be added again. */
  async removeJob(jobId: string): Promise<void> {
    await this.queue.remove(jobId).catch(() => 0);
  }

  /** Every job scheduler in Redis, read page by page (a snapshot for the reconciler). */
  async allSchedulers(pageSize = 1_000): Promise<Map<string, MirroredScheduler>> {
    const out = new Map<string, MirroredScheduler>();
    for (let start = 0; ; start += pageSize) {
      const page = await this.queue.getJobSchedulers(start, start + pageSize - 1, true);
      for (const s of page)
        out.set(s.key, {
          key: s.key,
          pattern: s.pattern ?? undefined,
          every: s.every ?? undefined,
          tz: s.tz ?? undefined,
          offset: s.offset ?? undefined,
          next: s.next ?? undefined,
        });
      if (page.length < pageSize) return out;
    }
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
