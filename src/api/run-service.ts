/**
 * The run lifecycle. A run is ONE inbound event (id `api:<run id>`) submitted through the ingress sink, so it takes
 * the same path as a platform message: inbox, one turn per conversation, session, memory, outbox.
 *
 * At most one run per thread is submitted at a time: `api_threads.active_run_id` is the fence, changed only by
 * conditional writes (`... WHERE active_run_id IS NULL` or `= <old>`), so two requests cannot both start a run.
 * That keeps runs 1:1 with turns (the gateway would otherwise batch two waiting messages into one turn).
 *   - reject (the default, as in LangGraph and the Agent Protocol): a second run on a busy thread is a 409;
 *   - enqueue: stored as `pending`, submitted when the active run finishes (FIFO);
 *   - interrupt: the active run is marked `interrupted` and the new one submitted at once. A worker cannot abort a
 *     turn mid-flight, so if the old turn was already running its answer still lands in the thread (LangGraph
 *     keeps an interrupted run's progress too); if it had not started, both inputs are answered by one turn;
 *   - rollback: as interrupt, and the old run is deleted. Its messages stay in the session if its turn already
 *     ran: committed session items are never rewritten (the spine keeps them, like after `reset`).
 * A run is final when its turn commits (the `afterCommit` hook calls `finalize`): the answer is durably in the
 * session then, and silent turns never reach the outbound stage. A sweeper heals crash windows.
 */
import { chooseAgent } from '../agents/store.js';
import { retrySerializable } from '../db/retry.js';
import { and, asc, eq, inArray, sql as dsql } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { IngressSink } from '../core/adapter.js';
import type { TurnContext, TurnOutcome } from '../core/module.js';
import { conversationKey } from '../core/types.js';
import { withTx, type Db } from '../db/client.js';
import { ApiError } from './http.js';
import { runResultOf } from './run-outcome.js';
import { runEvent, type NewRun, type RunDone, type RunKwargs, type RunRow } from './run-model.js';
import { ASSISTANT_ID, type ApiKeys } from './ids.js';
import { apiCrons, apiRuns, apiThreads } from './schema.js';
import { conversationKeyOf, getThread, type ThreadRow } from './thread-db.js';
import { safeErr } from '../observability/logger.js';
import {
  endInterrupt,
  eventIdOfRun,
  interruptedThread,
  notInterrupted,
  runsOfTurn,
  submitDecision,
  threadStatusAfter,
} from './resume.js';

class Abort extends Error {}

/**
 * The row an insert returned. A run is always built from what its own transaction wrote, never re-read afterwards:
 * a second read could miss it (the thread deleted or rolled back meanwhile) and the run would go on without a row.
 */
function insertedRun(rows: RunRow[]): RunRow {
  const [run] = rows;
  if (!run) throw new Error('the run insert returned no row');
  return run;
}
const OPEN = ['pending', 'running'];
const isUnique = (err: unknown) =>
  ((err as { code?: string }).code ?? (err as { cause?: { code?: string } }).cause?.code) === '23505';

export interface RunServiceDeps {
  db: Db;
  redis: Redis;
  sink: IngressSink;
  keys: ApiKeys;
  log: Logger;
  /** Remove the BullMQ schedulers of crons deleted with a thread. */
  removeSchedulers(keyId: string, cronIds: string[]): Promise<void>;
  /** Abort the model call of the turn answering `eventId` in this conversation, if it is running (src/live). */
  stopTurn?(conversationKey: string, eventId: string): Promise<void>;
}

export class RunService {
  constructor(private readonly d: RunServiceDeps) {}

  async get(keyId: string, runId: string): Promise<RunRow | undefined> {
    // Polled while runs commit: a lone read can lose a serialization conflict (40001) and is retried.
    const [row] = await retrySerializable(() =>
      this.d.db
        .select()
        .from(apiRuns)
        .where(and(eq(apiRuns.keyId, keyId), eq(apiRuns.runId, runId))),
    );
    return row;
  }

  async list(keyId: string, threadId: string, limit: number, offset: number, status?: string): Promise<RunRow[]> {
    const where = [eq(apiRuns.keyId, keyId), eq(apiRuns.threadId, threadId)];
    if (status) where.push(eq(apiRuns.status, status));
    return retrySerializable(() =>
      this.d.db
        .select()
        .from(apiRuns)
        .where(and(...where))
        .orderBy(dsql`${apiRuns.createdAt} desc`)
        .limit(limit)
        .offset(offset),
    );
  }

  /** Creates a run on `thread` following its multitask strategy; submits it when it becomes the active run. */
  async create(thread: ThreadRow, n: NewRun): Promise<RunRow> {
    const { db } = this.d;
    const keyId = thread.keyId;
    const row = (status: string) => ({
      keyId,
      runId: n.runId,
      threadId: thread.threadId,
      assistantId: n.assistantId,
      status,
      multitaskStrategy: n.strategy,
      metadata: n.metadata,
      kwargs: n.kwargs,
    });
    const threadPk = and(eq(apiThreads.keyId, keyId), eq(apiThreads.threadId, thread.threadId));
    let current = thread.activeRunId;
    let interrupted = thread.status === 'interrupted';
    // Only a resume goes first on an interrupted thread; other runs wait behind its decision (enqueue) or are refused.
    const waits = () => interrupted && !n.kwargs.resume;
    for (let attempt = 0; attempt < 8; attempt++) {
      if (attempt > 0) {
        const t = await getThread(db, keyId, thread.threadId);
        current = t?.activeRunId ?? null;
        interrupted = t?.status === 'interrupted';
      }
      try {
        if (!current && waits() && n.strategy !== 'enqueue') throw interruptedThread(thread.threadId);
        if (!current && !waits()) {
          const run = await withTx(db, async (tx) => {
            const t = await tx
              .update(apiThreads)
              .set({ activeRunId: n.runId, status: 'busy', updatedAt: new Date() })
              .where(and(threadPk, dsql`${apiThreads.activeRunId} is null`, notInterrupted(!n.kwargs.resume)))
              .returning({ id: apiThreads.threadId });
            if (!t.length) return undefined;
            return insertedRun(await tx.insert(apiRuns).values(row('running')).returning());
          });
          if (!run) continue;
          await this.submit(run, thread);
          return run;
        }
        if (n.strategy === 'reject') {
          throw new ApiError(
            409,
            `thread ${thread.threadId} is busy with run ${current}; use multitask_strategy enqueue, interrupt or rollback`,
          );
        }
        if (n.strategy === 'enqueue') {
          const pending = await withTx(db, async (tx) => {
            const queued = insertedRun(await tx.insert(apiRuns).values(row('pending')).returning());
            await tx.update(apiThreads).set({ updatedAt: new Date() }).where(threadPk);
            return queued;
          });
          await this.dispatch(keyId, thread.threadId); // the active run may have finished meanwhile
          return (await this.get(keyId, n.runId)) ?? pending;
        }
        if (!current) continue; // never: with no active run, every path above returned, threw or retried
        const old = current;
        const swapped = await withTx(db, async (tx) => {
          const t = await tx
            .update(apiThreads)
            .set({ activeRunId: n.runId, status: 'busy', updatedAt: new Date() })
            .where(and(threadPk, eq(apiThreads.activeRunId, old)))
            .returning({ id: apiThreads.threadId });
          if (!t.length) return undefined;
          const oldPk = and(eq(apiRuns.keyId, keyId), eq(apiRuns.runId, old), inArray(apiRuns.status, OPEN));
          if (n.strategy === 'rollback') await tx.delete(apiRuns).where(oldPk);
          else
            await tx
              .update(apiRuns)
              .set({ status: 'interrupted', error: `interrupted by run ${n.runId}`, updatedAt: new Date() })
              .where(oldPk);
          return insertedRun(await tx.insert(apiRuns).values(row('running')).returning());
        });
        if (!swapped) continue;
        await this.publish({
          keyId,
          runId: old,
          threadId: thread.threadId,
          status: n.strategy === 'rollback' ? 'deleted' : 'interrupted',
        });
        await this.submit(swapped, thread);
        return swapped;
      } catch (err) {
        // The same run id again (a cron job retried after a crash): it exists already, which is the point.
        if (isUnique(err)) {
          const existing = await this.get(keyId, n.runId);
          if (existing) return existing;
        }
        throw err;
      }
    }
    throw new ApiError(409, `thread ${thread.threadId} is changing too fast; retry`);
  }

  /** Submits the oldest pending run of an idle thread. Safe to call anywhere, any number of times. */
  async dispatch(keyId: string, threadId: string): Promise<void> {
    const { db } = this.d;
    for (let attempt = 0; attempt < 8; attempt++) {
      const [next] = await retrySerializable(() =>
        db
          .select()
          .from(apiRuns)
          .where(and(eq(apiRuns.keyId, keyId), eq(apiRuns.threadId, threadId), eq(apiRuns.status, 'pending')))
          .orderBy(asc(apiRuns.createdAt))
          .limit(1),
      );
      if (!next) return;
      const thread = await getThread(db, keyId, threadId);
      if (!thread || thread.activeRunId || thread.status === 'interrupted') return;
      const outcome = await withTx(db, async (tx) => {
        const t = await tx
          .update(apiThreads)
          .set({ activeRunId: next.runId, status: 'busy', updatedAt: new Date() })
          .where(
            and(
              eq(apiThreads.keyId, keyId),
              eq(apiThreads.threadId, threadId),
              dsql`${apiThreads.activeRunId} is null`,
              notInterrupted(true),
            ),
          )
          .returning({ id: apiThreads.threadId });
        if (!t.length) return 'busy';
        const r = await tx
          .update(apiRuns)
          .set({ status: 'running', updatedAt: new Date() })
          .where(and(eq(apiRuns.keyId, keyId), eq(apiRuns.runId, next.runId), eq(apiRuns.status, 'pending')))
          .returning({ id: apiRuns.runId });
        if (!r.length) throw new Abort(); // cancelled meanwhile: undo the claim and look again
        return 'ok';
      }).catch((err) => {
        if (err instanceof Abort) return 'again';
        throw err;
      });
      if (outcome === 'busy') return;
      if (outcome === 'ok') return this.submit({ ...next, status: 'running' }, thread);
    }
  }

  /** The run's turn committed: record the outcome, free the thread, start what waits. Idempotent. */
  async finalize(
    keyId: string,
    runId: string,
    turnId: string | null,
    status: 'success' | 'error',
    error: string | null,
    paused = false,
  ): Promise<void> {
    const run = await withTx(this.d.db, async (tx) => {
      const [r] = await tx
        .update(apiRuns)
        .set({ status, turnId, error, updatedAt: new Date() })
        .where(and(eq(apiRuns.keyId, keyId), eq(apiRuns.runId, runId), eq(apiRuns.status, 'running')))
        .returning();
      if (!r) return undefined;
      await tx
        .update(apiThreads)
        .set({ activeRunId: null, status: threadStatusAfter(status, paused), updatedAt: new Date() })
        .where(
          and(eq(apiThreads.keyId, keyId), eq(apiThreads.threadId, r.threadId), eq(apiThreads.activeRunId, runId)),
        );
      return r;
    });
    if (!run) return; // already final, cancelled or deleted
    await this.publish({ keyId, runId, threadId: run.threadId, status, error });
    if ((run.kwargs as RunKwargs).on_completion === 'delete') await this.deleteThread(keyId, run.threadId);
    // An interrupted thread waits for its decision: runs queued behind start after the resume (or the expiry).
    else if (!paused) await this.dispatch(keyId, run.threadId);
  }

  /** The thread's approval was settled without a resume run (it expired): idle again, queued runs start. */
  async interruptEnded(keyId: string, threadId: string): Promise<void> {
    await endInterrupt(this.d.db, keyId, threadId);
    await this.dispatch(keyId, threadId);
  }

  /** Cancel: interrupt marks the run interrupted, rollback deletes it. null if it is not pending or running. */
  async cancel(keyId: string, runId: string, action: 'interrupt' | 'rollback'): Promise<RunRow | null> {
    const run = await withTx(this.d.db, async (tx) => {
      const pk = and(eq(apiRuns.keyId, keyId), eq(apiRuns.runId, runId), inArray(apiRuns.status, OPEN));
      const [r] =
        action === 'rollback'
          ? await tx.delete(apiRuns).where(pk).returning()
          : await tx
              .update(apiRuns)
              .set({ status: 'interrupted', error: 'cancelled', updatedAt: new Date() })
              .where(pk)
              .returning();
      if (!r) return null;
      await tx
        .update(apiThreads)
        .set({ activeRunId: null, status: 'idle', updatedAt: new Date() })
        .where(
          and(eq(apiThreads.keyId, keyId), eq(apiThreads.threadId, r.threadId), eq(apiThreads.activeRunId, runId)),
        );
      return r;
    });
    if (!run) return null;
    await this.stopRunningTurn(keyId, run).catch((err: Error) =>
      this.d.log.warn({ err: safeErr(err) }, 'run cancel: stop request failed'),
    );
    await this.publish({
      keyId,
      runId,
      threadId: run.threadId,
      status: action === 'rollback' ? 'deleted' : 'interrupted',
    });
    await this.dispatch(keyId, run.threadId);
    return run;
  }

  /** Before the next run is submitted: the stop names this run's event, so it can never stop the next one. */
  private async stopRunningTurn(keyId: string, run: RunRow): Promise<void> {
    if (!this.d.stopTurn) return;
    const thread = await getThread(this.d.db, keyId, run.threadId);
    // A resume run's turn answers the approval's decision event, not a message of its own.
    if (thread) await this.d.stopTurn(conversationKeyOf(thread), eventIdOfRun(run));
  }

  /** Deletes a final run's record (open runs are cancelled instead). */
  async deleteRun(keyId: string, runId: string): Promise<boolean> {
    const rows = await retrySerializable(() =>
      this.d.db
        .delete(apiRuns)
        .where(
          and(
            eq(apiRuns.keyId, keyId),
            eq(apiRuns.runId, runId),
            dsql`${apiRuns.status} not in ('pending', 'running')`,
          ),
        )
        .returning({ id: apiRuns.runId }),
    );
    return rows.length > 0;
  }

  /** Deletes a thread with its runs and crons. Its conversation's session stays in the database for audit. */
  async deleteThread(keyId: string, threadId: string): Promise<boolean> {
    const { db } = this.d;
    const open = await retrySerializable(() =>
      db
        .select({ runId: apiRuns.runId })
        .from(apiRuns)
        .where(and(eq(apiRuns.keyId, keyId), eq(apiRuns.threadId, threadId), inArray(apiRuns.status, OPEN))),
    );
    const found = await withTx(db, async (tx) => {
      const t = await tx
        .delete(apiThreads)
        .where(and(eq(apiThreads.keyId, keyId), eq(apiThreads.threadId, threadId)))
        .returning({ id: apiThreads.threadId });
      await tx.delete(apiRuns).where(and(eq(apiRuns.keyId, keyId), eq(apiRuns.threadId, threadId)));
      const crons = await tx
        .delete(apiCrons)
        .where(and(eq(apiCrons.keyId, keyId), eq(apiCrons.threadId, threadId)))
        .returning({ id: apiCrons.cronId });
      return { thread: t.length > 0, crons: crons.map((c) => c.id) };
    });
    if (found.crons.length) await this.d.removeSchedulers(keyId, found.crons);
    for (const { runId } of open) await this.publish({ keyId, runId, threadId, status: 'interrupted' });
    return found.thread;
  }

  /** The `afterCommit` hook: every API run answered by this turn is final now. */
  async onTurnCommitted(ctx: TurnContext, outcome: TurnOutcome): Promise<void> {
    const { status, error } = runResultOf(outcome.outcome);
    const paused = outcome.outcome === 'approval_pending';
    const t = await runsOfTurn(this.d.db, (k, r) => this.get(k, r), ctx, outcome.outcome);
    for (const r of t.runs) await this.finalize(r.keyId, r.runId, ctx.turnId, status, error, paused);
    if (t.interruptEnded) await this.interruptEnded(t.interruptEnded.keyId, t.interruptEnded.threadId);
  }

  /** Hands the run's input to the ingress sink as an inbound event (deduplicated by event id there). */
  async submit(run: RunRow, thread: ThreadRow): Promise<void> {
    const k = run.kwargs as RunKwargs;
    if (k.resume) {
      const refused = await submitDecision(this.d, run, thread, k.resume);
      if (refused) await this.finalize(run.keyId, run.runId, null, 'error', refused);
      return;
    }
    const event = runEvent(run, thread);
    // A run for a named agent (assistant_id = agent name): that agent answers this thread from now on.
    if (run.assistantId !== ASSISTANT_ID) {
      await chooseAgent(this.d.db, conversationKey(event.conversation), run.assistantId, `api:${run.keyId}`);
    }
    await this.d.sink.submit(event);
  }

  async publish(d: RunDone): Promise<void> {
    await this.d.redis.publish(this.d.keys.runDone, JSON.stringify(d));
  }
}
