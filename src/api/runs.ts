/**
 * Run routes: create (background), wait, list, get, delete, join, cancel, on threads and stateless, with the
 * Agent Protocol's names (`.../wait` for join, `/runs/{run_id}...`) as aliases. Streams are in stream.ts.
 */
import { z } from 'zod';
import type { ApiContext } from './context.js';
import { ApiError, notFound, op, uuidParam, type Call, type Operation } from './http.js';
import { prepareRun, runCreateBody, runLocation, toRun } from './run-create.js';
import type { RunRow } from './run-model.js';
import { createAndWait, finalValues, isFinal, timedOut, waitForRun } from './run-wait.js';
import { getThread } from './thread-db.js';

const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(10),
  offset: z.coerce.number().int().min(0).default(0),
  status: z.enum(['pending', 'running', 'error', 'success', 'timeout', 'interrupted']).optional(),
  select: z.unknown().optional(),
});
const cancelQuery = z.object({
  wait: z.enum(['0', '1', 'true', 'false']).optional(),
  action: z.enum(['interrupt', 'rollback']).default('interrupt'),
});

export function runOperations(ctx: ApiContext): Operation[] {
  /** A run by id, optionally checked to belong to the thread in the path. */
  const load = async (c: Call, onThread: boolean): Promise<RunRow> => {
    const runId = uuidParam(c.params, 'run_id', 'run');
    const run = await ctx.runs.get(c.caller.keyId, runId);
    if (!run || (onThread && run.threadId !== uuidParam(c.params, 'thread_id', 'thread')))
      throw notFound(`run ${runId}`);
    return run;
  };

  const createBackground = (stateless: boolean) => async (c: Call) => {
    const p = await prepareRun(ctx, c.caller, stateless ? null : uuidParam(c.params, 'thread_id', 'thread'), c.body);
    const run = await ctx.runs.create(p.thread, p.run);
    c.reply.header('content-location', runLocation(ctx, run));
    return toRun(run);
  };

  const createWait = (stateless: boolean) => async (c: Call) => {
    const p = await prepareRun(ctx, c.caller, stateless ? null : uuidParam(c.params, 'thread_id', 'thread'), c.body);
    const { run, status } = await createAndWait(ctx, p);
    c.reply.header('content-location', runLocation(ctx, run));
    if (!status) throw timedOut(run, ctx.config.API_WAIT_TIMEOUT_MS, ctx.waiters.closing);
    return finalValues(ctx, p.thread, run, status);
  };

  const join = (onThread: boolean) => async (c: Call) => {
    const run = await load(c, onThread);
    const thread = await getThread(ctx.db, run.keyId, run.threadId);
    if (!thread) throw notFound(`thread ${run.threadId}`);
    const status = await waitForRun(ctx, run);
    if (!status) throw timedOut(run, ctx.config.API_WAIT_TIMEOUT_MS, ctx.waiters.closing);
    return finalValues(ctx, thread, run, status);
  };

  const cancel = (onThread: boolean) => async (c: Call) => {
    const run = await load(c, onThread);
    const q = c.query as z.infer<typeof cancelQuery>;
    const done = await ctx.runs.cancel(run.keyId, run.runId, q.action);
    if (!done) throw new ApiError(409, `run ${run.runId} is ${run.status}, not pending or running`);
    return c.reply.code(204).send();
  };

  const get = (onThread: boolean) => async (c: Call) => toRun(await load(c, onThread));

  const runResponses = {
    200: 'The run',
    404: 'Thread or assistant not found',
    409: 'Thread busy (multitask_strategy reject)',
    413: 'Input too long',
    422: 'Invalid body',
  };
  const waitResponses = {
    ...runResponses,
    200: 'The thread values after the run ({messages}); __error__ when it failed',
    408: 'Still running after API_WAIT_TIMEOUT_MS',
  };
  return [
    op({
      method: 'POST',
      path: '/threads/{thread_id}/runs',
      tag: 'Runs',
      summary: 'Create a background run',
      body: runCreateBody,
      responses: runResponses,
      handler: createBackground(false),
    }),
    op({
      method: 'POST',
      path: '/threads/{thread_id}/runs/wait',
      tag: 'Runs',
      summary: 'Create a run and wait for its output',
      body: runCreateBody,
      responses: waitResponses,
      handler: createWait(false),
    }),
    op({
      method: 'POST',
      path: '/runs',
      tag: 'Stateless Runs',
      summary: 'Create a background run on a new thread',
      body: runCreateBody,
      responses: runResponses,
      handler: createBackground(true),
    }),
    op({
      method: 'POST',
      path: '/runs/wait',
      tag: 'Stateless Runs',
      summary: 'Create a run on a new thread and wait for its output',
      body: runCreateBody,
      responses: waitResponses,
      handler: createWait(true),
    }),
    op({
      method: 'GET',
      path: '/threads/{thread_id}/runs',
      tag: 'Runs',
      summary: "List a thread's runs, newest first",
      query: listQuery,
      responses: { 200: 'Runs', 404: 'Thread not found' },
      handler: async (c) => {
        const threadId = uuidParam(c.params, 'thread_id', 'thread');
        if (!(await getThread(ctx.db, c.caller.keyId, threadId))) throw notFound(`thread ${threadId}`);
        const q = c.query as z.infer<typeof listQuery>;
        return (await ctx.runs.list(c.caller.keyId, threadId, q.limit, q.offset, q.status)).map(toRun);
      },
    }),
    op({
      method: 'GET',
      path: '/threads/{thread_id}/runs/{run_id}',
      tag: 'Runs',
      summary: 'Get a run',
      responses: { 200: 'The run', 404: 'Not found' },
      handler: get(true),
    }),
    op({
      method: 'DELETE',
      path: '/threads/{thread_id}/runs/{run_id}',
      tag: 'Runs',
      summary: 'Delete a finished run',
      responses: { 204: 'Deleted', 404: 'Not found', 409: 'Run still pending or running' },
      handler: async (c) => {
        const run = await load(c, true);
        if (!isFinal(run.status)) throw new ApiError(409, `run ${run.runId} is ${run.status}; cancel it first`);
        await ctx.runs.deleteRun(run.keyId, run.runId);
        return c.reply.code(204).send();
      },
    }),
    op({
      method: 'GET',
      path: '/threads/{thread_id}/runs/{run_id}/join',
      tag: 'Runs',
      summary: 'Wait for a run; the thread values after it',
      responses: waitResponses,
      handler: join(true),
    }),
    op({
      method: 'GET',
      path: '/threads/{thread_id}/runs/{run_id}/wait',
      tag: 'Runs',
      summary: 'Agent Protocol alias of join',
      responses: waitResponses,
      handler: join(true),
    }),
    op({
      method: 'POST',
      path: '/threads/{thread_id}/runs/{run_id}/cancel',
      tag: 'Runs',
      query: cancelQuery,
      handler: cancel(true),
      summary:
        'Cancel a run: interrupt (mark interrupted) or rollback (delete it); a turn already running still completes',
      responses: { 204: 'Cancelled', 404: 'Not found', 409: 'Run already final' },
    }),
    op({
      method: 'GET',
      path: '/runs/{run_id}',
      tag: 'Stateless Runs',
      summary: 'Get a run by id',
      responses: { 200: 'The run', 404: 'Not found' },
      handler: get(false),
    }),
    op({
      method: 'GET',
      path: '/runs/{run_id}/wait',
      tag: 'Stateless Runs',
      summary: 'Wait for a run by id (join)',
      responses: waitResponses,
      handler: join(false),
    }),
    op({
      method: 'POST',
      path: '/runs/{run_id}/cancel',
      tag: 'Stateless Runs',
      summary: 'Cancel a run by id',
      query: cancelQuery,
      responses: { 204: 'Cancelled', 404: 'Not found', 409: 'Run already final' },
      handler: cancel(false),
    }),
  ];
}
