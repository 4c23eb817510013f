/** Waiting for runs and the values a finished run answers with (shared by runs, streams and joins). */
import { eq } from 'drizzle-orm';
import { inboundMessages } from '../db/schema.js';
import { retrySerializable } from '../db/retry.js';
import type { ApiContext } from './context.js';
import { ApiError } from './http.js';
import type { PreparedRun } from './run-create.js';
import type { FinalStatus, RunRow } from './run-model.js';
import { eventIdOfRun } from './resume.js';
import { asOfTurn, loadConversation, messagesOf } from './state.js';
import { conversationKeyOf, type ThreadRow } from './thread-db.js';
import { toInterrupt, waitingApproval } from './interrupts.js';

export const FINAL = ['success', 'error', 'interrupted'];

export function isFinal(status: string): status is FinalStatus {
  return FINAL.includes(status);
}

/** The durable answer to "is it done": the run row (gone = deleted with its thread, or rolled back). */
export function pollRun(ctx: ApiContext, keyId: string, runId: string): () => Promise<FinalStatus | null> {
  return async () => {
    const r = await ctx.runs.get(keyId, runId);
    if (!r) return 'deleted';
    return isFinal(r.status) ? r.status : null;
  };
}

/** Creates the run and waits for it; the waiter exists before the run can be submitted. */
export async function createAndWait(
  ctx: ApiContext,
  p: PreparedRun,
): Promise<{ run: RunRow; status: FinalStatus | null }> {
  const handle = ctx.waiters.wait(
    p.run.runId,
    ctx.config.API_WAIT_TIMEOUT_MS,
    pollRun(ctx, p.thread.keyId, p.run.runId),
  );
  let run: RunRow;
  try {
    run = await ctx.runs.create(p.thread, p.run);
  } catch (err) {
    handle.cancel();
    throw err;
  }
  return { run, status: await handle.promise };
}

/** Waits for an existing run (join). */
export async function waitForRun(ctx: ApiContext, run: RunRow): Promise<FinalStatus | null> {
  if (isFinal(run.status)) return run.status;
  const poll = pollRun(ctx, run.keyId, run.runId);
  const handle = ctx.waiters.wait(run.runId, ctx.config.API_WAIT_TIMEOUT_MS, poll);
  const now = await poll(); // it may have finished between the read and the registration
  if (now) handle.cancel();
  return now ?? handle.promise;
}

export function timedOut(run: { runId: string }, ms: number, closing = false): ApiError {
  // 408, not 5xx: clients retry 5xx, and re-POSTing a run would start it again.
  if (closing)
    return new ApiError(
      408,
      `run ${run.runId} is still running and this server is shutting down; it continues, join it later`,
    );
  return new ApiError(408, `run ${run.runId} is still running after ${ms} ms; it continues, join it later`);
}

/**
 * What LangGraph's wait and join answer: the thread's values, with `__error__` when the run failed and
 * `__interrupt__` when it stopped for an approval (interrupts.ts).
 */
export async function finalValues(
  ctx: ApiContext,
  thread: ThreadRow,
  run: RunRow,
  status: FinalStatus,
): Promise<Record<string, unknown>> {
  const key = conversationKeyOf(thread);
  const [conv, turnId] = await Promise.all([loadConversation(ctx.db, key), turnOfRun(ctx, run)]);
  const values: Record<string, unknown> = { messages: messagesOf(asOfTurn(conv, turnId)) };
  if (status === 'error') values.__error__ = await runFailure(ctx, run);
  // A run that stopped at a tool waiting for approval ends like a LangGraph run paused at interrupt().
  const waiting = status === 'success' ? await waitingApproval(ctx.db, key) : undefined;
  if (waiting) values.__interrupt__ = [toInterrupt(waiting)];
  return values;
}

/** The error a failed run records (the model failed, the user was rate limited, ...), as LangGraph clients read it. */
export async function runFailure(
  ctx: ApiContext,
  run: { keyId: string; runId: string },
): Promise<{ error: string; message: string }> {
  const error = ctx.waiters.errorOf(run.runId) ?? (await ctx.runs.get(run.keyId, run.runId))?.error;
  const refused = error && !/^the model failed/.test(error);
  return { error: refused ? 'RunRefused' : 'ModelError', message: error ?? 'the run failed' };
}

/** The turn that answered the run: its input event's, or for a resume the turn that settled the approval. */
export async function turnOfRun(ctx: ApiContext, run: RunRow): Promise<string | null> {
  const eventId = eventIdOfRun(run);
  const [row] = await retrySerializable(() =>
    ctx.db.select({ turnId: inboundMessages.turnId }).from(inboundMessages).where(eq(inboundMessages.eventId, eventId)),
  );
  return row?.turnId ?? null;
}
