/**
 * The worker role: consumes turn jobs (agent runs) and outbound jobs (deliveries). Stateless: everything it needs
 * is in Redis and the database, so any number of workers can run and any of them can be killed at any moment.
 */
import { Worker, type ConnectionOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { AgentRuntime } from '../agent/runtime.js';
import type { TurnHooks } from '../core/module.js';
import type { AdapterRegistry } from '../core/registry.js';
import type { Db } from '../db/client.js';
import { deliverConversation } from '../outbound/deliver.js';
import type { Inbox } from '../queue/inbox.js';
import { QUEUE_OUTBOUND, QUEUE_TURNS, type Keys } from '../queue/keys.js';
import { retryDelay, type ConversationJob, type Queues } from '../queue/queues.js';
import { adaptConcurrency } from './backpressure.js';
import { startSweeper, sweepOnce } from './maintenance.js';
import { guardedTurn } from './deadletter.js';
import { processConversation, type TurnDeps } from './turn.js';
import { safeErr } from '../observability/logger.js';
import { LiveTurns, type LiveTurnsOptions } from '../live/turns.js';
import { lazyChild } from '../observability/lazy-child.js';

export interface WorkerOptions {
  db: Db;
  redis: Redis;
  /** A connection factory: BullMQ workers each need their own blocking connection. */
  connect(): Redis;
  keys: Keys;
  inbox: Inbox;
  queues: Queues;
  runtime: AgentRuntime;
  adapters: AdapterRegistry;
  log: Logger;
  concurrency: number;
  outboundConcurrency: number;
  historyLimit: number;
  batchMax: number;
  /** How long a run stopped for an approval waits for the decision (APPROVAL_TIMEOUT_MS). */
  approvalTimeoutMs?: number;
  /** Job lock: a killed worker's turn is picked up by another worker after about this long. */
  lockDurationMs?: number;
  sweepEveryMs?: number;
  hooks?: TurnHooks[];
  /** Permanent failures of a turn before its event is dead-lettered (DEADLETTER_AFTER_ATTEMPTS). */
  deadLetterAfter?: number;
  /** Platform previews of live text (src/live/preview.ts); live text is always published for the gateways. */
  preview?: LiveTurnsOptions['preview'];
  /** Take fewer turns while over this memory or event-loop lag (src/worker/backpressure.ts); unset: fixed limit. */
  backpressure?: { maxRssMb: number; maxLoopDelayMs: number };
  /** Reads the turn's files (src/attachments); unset: attachments are only named to the model. */
  attachments?: TurnDeps['attachments'];
  modelAcceptsImages?: boolean;
}

export interface RunningWorker {
  close(graceMs: number): Promise<void>;
  sweep(): Promise<unknown>;
}

export function startWorker(o: WorkerOptions): RunningWorker {
  const lockDuration = o.lockDurationMs ?? 30_000;
  const common = {
    prefix: o.keys.bullPrefix,
    lockDuration,
    stalledInterval: Math.max(1_000, Math.floor(lockDuration / 2)),
    // A stalled job (its worker died) must be retried, however often workers die: never fail it for stalling.
    maxStalledCount: 1_000_000,
    settings: { backoffStrategy: (attemptsMade: number) => retryDelay(attemptsMade) },
  };
  // Live text and /stop: the runtime streams into the conversation's live channel and honours stop requests.
  const live = new LiveTurns({ redis: o.redis, keys: o.keys, log: o.log, preview: o.preview });
  void live
    .start(o.connect())
    .catch((err: Error) => o.log.error({ err: safeErr(err) }, 'stop channel subscription failed'));
  const runtime = live.wrap(o.runtime);
  const turnWorker = new Worker<ConversationJob>(
    QUEUE_TURNS,
    (job) => {
      const key = job.data.conversationKey;
      const log = lazyChild(o.log, { job: job.id });
      const deps: TurnDeps = {
        db: o.db,
        redis: o.redis,
        inbox: o.inbox,
        queues: o.queues,
        runtime,
        adapters: o.adapters,
        deliveredChannel: o.keys.delivered,
        log,
        historyLimit: o.historyLimit,
        batchMax: o.batchMax,
        hooks: o.hooks,
        modelOutputKey: o.keys.modelOutput,
        attachments: o.attachments,
        modelAcceptsImages: o.modelAcceptsImages,
        turnTraceKey: o.keys.turnTrace,
        approvalTimeoutMs: o.approvalTimeoutMs,
      };
      const guard = {
        db: o.db,
        redis: o.redis,
        inbox: o.inbox,
        queues: o.queues,
        keys: o.keys,
        log,
        maxAttempts: o.deadLetterAfter ?? 5,
      };
      return guardedTurn(guard, key, job.attemptsMade > 0, (batchMax) =>
        processConversation(batchMax ? { ...deps, batchMax } : deps, key),
      );
    },
    { ...common, connection: o.connect() as ConnectionOptions, concurrency: o.concurrency },
  );
  const outWorker = new Worker<ConversationJob>(
    QUEUE_OUTBOUND,
    (job, token) =>
      deliverConversation(
        {
          db: o.db,
          redis: o.redis,
          adapters: o.adapters,
          deliveredChannel: o.keys.delivered,
          paceKey: o.keys.pace,
          sentKey: o.keys.sent,
          log: lazyChild(o.log, { job: job.id }),
          previewsKey: o.keys.previews,
          turnTraceKey: o.keys.turnTrace,
          holdsLock: async () => token !== undefined && (await job.extendLock(token, lockDuration)) === 1,
        },
        job.data.conversationKey,
      ),
    { ...common, connection: o.connect() as ConnectionOptions, concurrency: o.outboundConcurrency },
  );
  for (const [name, w] of [
    ['turns', turnWorker],
    ['outbound', outWorker],
  ] as const) {
    w.on('failed', (job, err) =>
      o.log.warn(
        { queue: name, job: job?.id, attempts: job?.attemptsMade, err: safeErr(err) },
        'job failed; will retry',
      ),
    );
    w.on('error', (err) => o.log.error({ queue: name, err: safeErr(err) }, 'worker error'));
  }
  const stopAdapting = o.backpressure
    ? adaptConcurrency(turnWorker, { max: o.concurrency, ...o.backpressure, log: o.log })
    : () => undefined;
  const sweep = () => sweepOnce(o.db, o.inbox, o.queues, o.log);
  const stopSweeper = startSweeper(sweep, o.sweepEveryMs ?? 15_000, o.log);
  return {
    sweep,
    async close(graceMs) {
      void stopSweeper(); // not awaited: a sweep in flight must not hold the drain of active turns
      stopAdapting();
      // Stop taking work and let active turns finish; past the grace period, hand them back (their locks expire
      // and another worker resumes them; every step is idempotent).
      const graceful = Promise.all([turnWorker.close(), outWorker.close()]);
      const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), graceMs).unref());
      if ((await Promise.race([graceful, timeout])) === 'timeout') {
        o.log.warn('grace period over; handing back active jobs');
        await Promise.all([turnWorker.close(true), outWorker.close(true)]);
      }
      await live.stop();
    },
  };
}
