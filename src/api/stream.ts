/**
 * Streaming runs over SSE, in the LangGraph wire format: first `metadata` ({run_id, thread_id}), then (mode
 * `values`) the state with the new input, heartbeat comments while the turn works, then the answer:
 *   - `messages-tuple` -> `messages` events `[AIMessageChunk, metadata]`: the model's tokens as it writes them
 *     (src/api/live-text.ts; events without an SSE id), then the rest of the answer once the turn commits, under
 *     the same message id, so concatenated they are the message. Where no live text was seen (a join mid-turn, a
 *     resumed stream), the finished answer is cut into deltas of about API_STREAM_CHUNK_CHARS characters. Tool
 *     calls and results come as whole messages.
 *   - `messages` (legacy) -> messages/metadata, messages/partial (growing), messages/complete;
 *   - `updates` -> {agent: {messages}}; `values` -> the final state; `custom` has nothing to send.
 * A failed run ends with an `error` event. Event ids are sequential and the events a pure function of the
 * run's final state, so a client reconnecting with Last-Event-ID (the SDK uses the Location header) resumes.
 */
import { z } from 'zod';
import type { ApiContext } from './context.js';
import { notFound, op, uuidParam, type Call, type Operation } from './http.js';
import { ASSISTANT_ID, GRAPH_ID } from './ids.js';
import { splitDeltas, type LgMessage } from './messages.js';
import { prepareRun, runCreateBody, runLocation, streamModes } from './run-create.js';
import type { FinalStatus, RunKwargs, RunRow } from './run-model.js';
import { pollRun, runFailure, turnOfRun, waitForRun, type createAndWait } from './run-wait.js';
import { SseStream } from './sse.js';
import { followRunText, type LiveText } from './live-text.js';
import { asOfTurn, loadConversation, messagesOf, turnMessages } from './state.js';
import { conversationKeyOf, getThread, type ThreadRow } from './thread-db.js';
import { toInterrupt, waitingApproval } from './interrupts.js';

type WaitResult = Awaited<ReturnType<typeof createAndWait>>['status'];

const joinQuery = z.object({
  stream_mode: z.union([z.string(), z.array(z.string())]).optional(),
  cancel_on_disconnect: z.enum(['0', '1', 'true', 'false']).optional(),
});

function lastEventId(c: Call): number {
  const n = Number(c.req.headers['last-event-id']);
  return Number.isInteger(n) && n > 0 ? n : 0;
}

function chunkOf(m: LgMessage, content: string): Record<string, unknown> {
  return {
    type: 'AIMessageChunk',
    id: m.id,
    content,
    tool_calls: m.tool_calls ?? [],
    tool_call_chunks: [],
    invalid_tool_calls: [],
    additional_kwargs: {},
    response_metadata: {},
  };
}

/** Everything after the metadata event: initial values, heartbeats, the answer, the final values. */
async function streamBody(
  ctx: ApiContext,
  sse: SseStream,
  thread: ThreadRow,
  run: RunRow,
  modes: string[],
  status: Promise<WaitResult>,
  live?: LiveText,
): Promise<void> {
  try {
    await streamEvents(ctx, sse, thread, run, modes, status, live);
  } finally {
    live?.finish();
  }
}

async function streamEvents(
  ctx: ApiContext,
  sse: SseStream,
  thread: ThreadRow,
  run: RunRow,
  modes: string[],
  status: Promise<WaitResult>,
  live?: LiveText,
): Promise<void> {
  const k = run.kwargs as RunKwargs;
  const key = conversationKeyOf(thread);
  const meta = {
    run_id: run.runId,
    thread_id: thread.threadId,
    assistant_id: ASSISTANT_ID,
    graph_id: GRAPH_ID,
    langgraph_node: 'agent',
    langgraph_step: 1,
    langgraph_checkpoint_ns: '',
    tags: [],
  };
  if (modes.includes('values')) {
    const before = messagesOf(await loadConversation(ctx.db, key));
    const pending = !isAnswered(run.status) && !k.resume;
    const input = {
      type: 'human',
      id: `${run.runId}-input`,
      content: k.input,
      additional_kwargs: {},
      response_metadata: {},
    };
    sse.send('values', { messages: pending ? [...before, input] : before });
  }
  sse.heartbeat(ctx.config.API_HEARTBEAT_MS);
  if (modes.includes('messages-tuple'))
    live?.attach(sse, (id, content) => [{ ...chunkOf({ id } as LgMessage, content), tool_calls: [] }, meta]);
  const final = await status;
  const shown = live?.finish() ?? { id: '', text: '' };
  if (!final) {
    const why = ctx.waiters.closing ? 'this server is shutting down' : `after ${ctx.config.API_WAIT_TIMEOUT_MS} ms`;
    sse.send('error', { error: 'TimeoutError', message: `run ${run.runId} is still running (${why}); join it later` });
    return sse.end();
  }
  const conv = await loadConversation(ctx.db, key);
  const turnId = await turnOfRun(ctx, run);
  const answer = (turnId ? turnMessages(conv, turnId) : []).filter((m) => m.type !== 'human');
  // The live text is the start of the last answer message: the rest follows under the live id.
  const lastText = answer.findLast((m) => m.type === 'ai' && m.content);
  const continued = shown.text && lastText?.content.startsWith(shown.text) ? lastText : undefined;
  for (const m of answer) {
    if (modes.includes('messages-tuple')) {
      if (m === continued) {
        const rest = m.content.slice(shown.text.length);
        for (const d of splitDeltas(rest, ctx.config.API_STREAM_CHUNK_CHARS))
          sse.send('messages', [chunkOf({ ...m, id: shown.id }, d), meta]);
      } else if (m.type === 'ai' && m.content)
        for (const d of splitDeltas(m.content, ctx.config.API_STREAM_CHUNK_CHARS))
          sse.send('messages', [chunkOf(m, d), meta]);
      else sse.send('messages', [m.type === 'ai' ? chunkOf(m, '') : m, meta]);
    }
    if (modes.includes('messages')) {
      sse.send('messages/metadata', { [m.id]: { metadata: meta } });
      if (m.type === 'ai' && m.content) {
        let sofar = '';
        for (const d of splitDeltas(m.content, ctx.config.API_STREAM_CHUNK_CHARS))
          sse.send('messages/partial', [{ ...m, content: (sofar += d) }]);
      }
      sse.send('messages/complete', [m]);
    }
  }
  if (modes.includes('updates') && answer.length) sse.send('updates', { agent: { messages: answer } });
  // Stopped for an approval: the interrupt comes as LangGraph sends it, in updates and the final values.
  const waiting = final === 'success' ? await waitingApproval(ctx.db, key) : undefined;
  const interrupt = waiting ? { __interrupt__: [toInterrupt(waiting)] } : {};
  if (modes.includes('updates') && waiting) sse.send('updates', interrupt);
  if (modes.includes('values')) sse.send('values', { messages: messagesOf(asOfTurn(conv, turnId)), ...interrupt });
  if (final === 'error') sse.send('error', await runFailure(ctx, run));
  sse.end();
}

function isAnswered(status: string): boolean {
  return status === 'success' || status === 'error';
}

export function streamOperations(ctx: ApiContext): Operation[] {
  const create = (stateless: boolean) => async (c: Call) => {
    const p = await prepareRun(ctx, c.caller, stateless ? null : uuidParam(c.params, 'thread_id', 'thread'), c.body);
    const onDisconnect = (c.body as { on_disconnect?: string }).on_disconnect ?? 'continue';
    const handle = ctx.waiters.wait(
      p.run.runId,
      ctx.config.API_WAIT_TIMEOUT_MS,
      pollRun(ctx, p.thread.keyId, p.run.runId),
    );
    const live = p.run.kwargs.stream_mode.includes('messages-tuple')
      ? await followRunText(ctx, conversationKeyOf(p.thread), p.run.runId)
      : undefined;
    let run: RunRow;
    try {
      run = await ctx.runs.create(p.thread, p.run);
    } catch (err) {
      handle.cancel();
      live?.finish();
      throw err; // not streaming yet: answered as JSON (409, 413, ...)
    }
    const sse = new SseStream(c.reply, {
      contentLocation: runLocation(ctx, run),
      location: stateless ? `/runs/${run.runId}/stream` : `/threads/${run.threadId}/runs/${run.runId}/stream`,
    });
    sse.whenClientGone(() => {
      handle.cancel();
      if (onDisconnect === 'cancel') void ctx.runs.cancel(run.keyId, run.runId, 'interrupt').catch(() => undefined);
    });
    sse.send('metadata', { run_id: run.runId, thread_id: run.threadId });
    await streamBody(ctx, sse, p.thread, run, p.run.kwargs.stream_mode, handle.promise, live);
  };

  const join = (onThread: boolean) => async (c: Call) => {
    const runId = uuidParam(c.params, 'run_id', 'run');
    const run = await ctx.runs.get(c.caller.keyId, runId);
    if (!run || (onThread && run.threadId !== uuidParam(c.params, 'thread_id', 'thread')))
      throw notFound(`run ${runId}`);
    const thread = await getThread(ctx.db, run.keyId, run.threadId);
    if (!thread) throw notFound(`thread ${run.threadId}`);
    const q = c.query as z.infer<typeof joinQuery>;
    const modes = streamModes(q.stream_mode, (run.kwargs as RunKwargs).stream_mode);
    const resumed = lastEventId(c);
    // A resumed stream replays numbered events only; a fresh join shows the tokens still to come.
    const live =
      !resumed && modes.includes('messages-tuple') && !isAnswered(run.status)
        ? await followRunText(ctx, conversationKeyOf(thread), run.runId)
        : undefined;
    const sse = new SseStream(c.reply, { contentLocation: runLocation(ctx, run) }, resumed);
    const status = waitForRun(ctx, run) as Promise<FinalStatus | null>;
    sse.whenClientGone(() => {
      if (q.cancel_on_disconnect === '1' || q.cancel_on_disconnect === 'true')
        void ctx.runs.cancel(run.keyId, run.runId, 'interrupt').catch(() => undefined);
    });
    sse.send('metadata', { run_id: run.runId, thread_id: run.threadId });
    await streamBody(ctx, sse, thread, run, modes, status, live);
  };

  const responses = {
    200: 'text/event-stream of run events',
    404: 'Thread or assistant not found',
    409: 'Thread busy (multitask_strategy reject)',
    413: 'Input too long',
    422: 'Invalid body',
  };
  const joinResponses = { 200: "text/event-stream of the run's events", 404: 'Run not found' };
  return [
    op({
      method: 'POST',
      path: '/threads/{thread_id}/runs/stream',
      tag: 'Runs',
      summary: 'Create a run and stream its output (SSE)',
      body: runCreateBody,
      sse: true,
      responses,
      handler: create(false),
    }),
    op({
      method: 'POST',
      path: '/runs/stream',
      tag: 'Stateless Runs',
      summary: 'Create a run on a new thread and stream its output (SSE)',
      body: runCreateBody,
      sse: true,
      responses,
      handler: create(true),
    }),
    op({
      method: 'GET',
      path: '/threads/{thread_id}/runs/{run_id}/stream',
      tag: 'Runs',
      summary: "Join a run's stream (Last-Event-ID resumes)",
      query: joinQuery,
      sse: true,
      responses: joinResponses,
      handler: join(true),
    }),
    op({
      method: 'GET',
      path: '/runs/{run_id}/stream',
      tag: 'Stateless Runs',
      summary: "Join a run's stream by run id",
      query: joinQuery,
      sse: true,
      responses: joinResponses,
      handler: join(false),
    }),
  ];
}
