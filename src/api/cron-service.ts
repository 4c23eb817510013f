/**
 * Crons: rows in `api_crons` are the source of truth, each enabled one mirrored to a BullMQ job scheduler
 * (`upsertJobScheduler`, UTC). A firing job carries only ids; the worker loads the cron and creates a run with
 * its payload through the normal run path (multitask strategy default `enqueue`, so a busy thread queues the
 * firing instead of losing it). The run id is derived from the BullMQ job id, so a job retried after a crash
 * finds its run instead of starting a second one. One worker at a time (the shared leased reconciler) reconciles
 * schedulers with the table at start and every minute (a Redis flush or a lost removal heals by itself).
 */
import { Queue, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { CronExpressionParser } from 'cron-parser';
import { and, eq } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Db } from '../db/client.js';
import { ApiError } from './http.js';
import { CRON_QUEUE, uuid5, type ApiKeys } from './ids.js';
import { prepareRun, type RunCreateBody, type RunCreateDeps } from './run-create.js';
import type { RunService } from './run-service.js';
import { apiCrons } from './schema.js';
import { startLeasedReconciler } from '../queue/reconciler.js';
import { safeErr } from '../observability/logger.js';

export type CronRow = typeof apiCrons.$inferSelect;
interface FireJob {
  keyId: string;
  cronId: string;
}
const RUN_NS = '3f1d5c9e-7a2b-4c8d-9e0f-1a2b3c4d5e6f';

export function nextRunDate(schedule: string, after = new Date()): Date {
  try {
    return CronExpressionParser.parse(schedule, { tz: 'UTC', currentDate: after }).next().toDate();
  } catch (err) {
    throw new ApiError(422, `schedule "${schedule}" is not a valid cron expression: ${(err as Error).message}`);
  }
}

export function toCron(c: CronRow): Record<string, unknown> {
  let next: string | null = null;
  try {
    next = c.enabled ? nextRunDate(c.schedule).toISOString() : null;
  } catch {
    next = null;
  }
  return {
    cron_id: c.cronId,
    assistant_id: c.assistantId,
    thread_id: c.threadId,
    on_run_completed: c.onRunCompleted,
    end_time: c.endTime?.toISOString() ?? null,
    schedule: c.schedule,
    created_at: c.createdAt.toISOString(),
    updated_at: c.updatedAt.toISOString(),
    payload: c.payload,
    user_id: null,
    next_run_date: next,
    metadata: c.metadata,
    enabled: c.enabled,
  };
}

export interface CronServiceDeps extends RunCreateDeps {
  db: Db;
  redis: Redis;
  /** Where the cron queue lives (BullMQ's scripts stay off `redis`: see queueRedis in src/cli/app.ts). */
  queueRedis: Redis;
  log: Logger;
  /** A firing creates its run through the normal run path. */
  runs: Pick<RunService, 'create'>;
  /** The reconciler's lease. */
  keys: Pick<ApiKeys, 'cronsLease'>;
}

export class CronService {
  private queueInstance: Queue<FireJob> | undefined;

  constructor(
    private readonly ctx: CronServiceDeps,
    private readonly bullPrefix: string,
  ) {}

  private get queue(): Queue<FireJob> {
    this.queueInstance ??= new Queue<FireJob>(CRON_QUEUE, {
      connection: this.ctx.queueRedis as ConnectionOptions,
      prefix: this.bullPrefix,
    });
    return this.queueInstance;
  }

  private schedulerId(keyId: string, cronId: string): string {
    return `cron-${keyId}-${cronId}`;
  }

  async get(keyId: string, cronId: string): Promise<CronRow | undefined> {
    const [row] = await this.ctx.db
      .select()
      .from(apiCrons)
      .where(and(eq(apiCrons.keyId, keyId), eq(apiCrons.cronId, cronId)));
    return row;
  }

  /** Mirror one cron to its scheduler (or remove the scheduler when it is disabled or over). */
  async sync(c: CronRow): Promise<void> {
    const id = this.schedulerId(c.keyId, c.cronId);
    if (!c.enabled || (c.endTime && c.endTime.getTime() <= Date.now())) {
      await this.queue.removeJobScheduler(id);
      return;
    }
    await this.queue.upsertJobScheduler(
      id,
      { pattern: c.schedule, tz: 'UTC', endDate: c.endTime ?? undefined },
      {
        name: 'fire',
        data: { keyId: c.keyId, cronId: c.cronId },
        opts: {
          removeOnComplete: true,
          removeOnFail: { age: 24 * 3600 },
          attempts: 5,
          backoff: { type: 'exponential', delay: 1_000 },
        },
      },
    );
  }

  async removeSchedulers(keyId: string, cronIds: string[]): Promise<void> {
    for (const id of cronIds) await this.queue.removeJobScheduler(this.schedulerId(keyId, id));
  }

  /** One firing: a run with the cron's payload, on its thread or (stateless) a new one. */
  async fire(job: Job<FireJob>): Promise<string | null> {
    const { keyId, cronId } = job.data;
    const cron = await this.get(keyId, cronId);
    if (!cron?.enabled) {
      await this.queue.removeJobScheduler(this.schedulerId(keyId, cronId));
      return null;
    }
    const runId = uuid5(String(job.id), RUN_NS);
    const body = {
      ...(cron.payload as RunCreateBody),
      assistant_id: cron.assistantId,
      on_completion: cron.onRunCompleted,
    } as RunCreateBody;
    body.multitask_strategy ??= 'enqueue';
    const caller = { keyId, keyName: '' };
    const p = await prepareRun(this.ctx, caller, cron.threadId, body, {
      runId,
      statelessThreadId: uuid5(`${String(job.id)}:thread`, RUN_NS),
    });
    const run = await this.ctx.runs.create(p.thread, p.run);
    this.ctx.log.info({ cronId, runId: run.runId }, 'cron fired a run');
    return run.runId;
  }

  /** Schedulers match the table: every enabled cron has one, nothing else does. */
  async reconcile(): Promise<void> {
    const schedulers = await this.queue.getJobSchedulers(0, -1); // read first: see the create order in crons.ts
    const rows = await this.ctx.db.select().from(apiCrons);
    const wanted = new Set(rows.filter((c) => c.enabled).map((c) => this.schedulerId(c.keyId, c.cronId)));
    for (const s of schedulers) {
      const id = s.id ?? s.key;
      if (id && !wanted.has(id)) await this.queue.removeJobScheduler(id);
    }
    for (const c of rows) {
      // Re-read just before the upsert: a cron deleted during this pass must not get its scheduler back.
      const current = await this.get(c.keyId, c.cronId);
      if (current) await this.sync(current);
    }
  }

  /** Worker processes: consume firings; the lease holder among them reconciles every minute. Returns the stop. */
  async startWorker(
    connect: () => Redis,
    reconcileEveryMs = 60_000,
    leaseTtlMs?: number,
  ): Promise<() => Promise<void>> {
    const worker = new Worker<FireJob>(CRON_QUEUE, (job) => this.fire(job), {
      connection: connect() as ConnectionOptions,
      prefix: this.bullPrefix,
      concurrency: 4,
    });
    worker.on('failed', (job, err) => this.ctx.log.warn({ job: job?.id, err: safeErr(err) }, 'cron firing failed'));
    worker.on('error', (err) => this.ctx.log.error({ err: safeErr(err) }, 'cron worker error'));
    const stopReconciler = startLeasedReconciler({
      redis: this.ctx.redis,
      leaseKey: this.ctx.keys.cronsLease,
      everyMs: reconcileEveryMs,
      leaseTtlMs,
      log: this.ctx.log,
      what: 'cron',
      pass: () => this.reconcile(),
    });
    return async () => {
      await stopReconciler();
      await worker.close();
      await this.close();
    };
  }

  async close(): Promise<void> {
    await this.queueInstance?.close();
    this.queueInstance = undefined;
  }
}
