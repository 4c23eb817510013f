/**
 * Thread routes. A thread is a gateway conversation (see ids.ts); its state and history are read from the
 * conversation's session (state.ts). Search answers `values: {}` unless `select` asks for "values" (each costs a
 * session read); GET /threads/{id} always includes them.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { ApiContext } from './context.js';
import { ApiError, isUuid, notFound, op, uuidParam, type Call, type Operation } from './http.js';
import { loadConversation, messagesOf, threadHistory, threadState } from './state.js';
import { threadInterrupts, waitingApproval, withInterrupt } from './interrupts.js';
import {
  conversationKeyOf,
  getThread,
  insertThread,
  patchThreadMetadata,
  searchThreads,
  toThread,
  type ThreadRow,
} from './thread-db.js';

const metadata = z.record(z.string(), z.unknown());
const createBody = z.object({
  thread_id: z.string().refine(isUuid, 'must be a UUID').optional(),
  metadata: metadata.nullish(),
  if_exists: z
    .enum(['raise', 'do_nothing'])
    .optional()
    .describe('An existing thread id: 409 (raise, default) or return it'),
  supersteps: z.array(z.unknown()).nullish().describe('not supported'),
  ttl: z.unknown().optional().describe('not supported'),
});
const searchBody = z.object({
  metadata: metadata.nullish(),
  ids: z.array(z.string().refine(isUuid, 'must be a UUID')).nullish(),
  status: z.enum(['idle', 'busy', 'interrupted', 'error']).nullish(),
  limit: z.number().int().min(1).max(1000).default(10),
  offset: z.number().int().min(0).default(0),
  sort_by: z.enum(['thread_id', 'status', 'created_at', 'updated_at', 'state_updated_at']).nullish(),
  sort_order: z.enum(['asc', 'desc']).nullish(),
  select: z.array(z.string()).nullish().describe('Include "values" to get each thread\'s messages'),
  values: z.unknown().optional().describe('not supported'),
});
const countBody = searchBody.pick({ metadata: true, status: true, values: true });
const patchBody = z.object({ metadata: metadata.nullish(), ttl: z.unknown().optional().describe('not supported') });
const historyBody = z.object({
  limit: z.number().int().min(1).max(1000).default(10),
  before: z
    .union([
      z.string(),
      z
        .object({ configurable: z.object({ checkpoint_id: z.string().optional() }).passthrough().optional() })
        .passthrough(),
    ])
    .nullish(),
  metadata: metadata.nullish(),
  checkpoint: z.unknown().optional(),
});
const historyQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(10),
  before: z.string().optional(),
});

export function threadOperations(ctx: ApiContext): Operation[] {
  const load = async (c: Call): Promise<ThreadRow> => {
    const id = uuidParam(c.params, 'thread_id', 'thread');
    const t = await getThread(ctx.db, c.caller.keyId, id);
    if (!t) throw notFound(`thread ${id}`);
    return t;
  };
  const conversation = (t: ThreadRow) => loadConversation(ctx.db, conversationKeyOf(t));
  const withValues = async (t: ThreadRow) => ({
    ...toThread(t, { messages: messagesOf(await conversation(t)) }),
    interrupts: threadInterrupts(await waitingApproval(ctx.db, conversationKeyOf(t))),
  });
  const history = async (c: Call, limit: number, before: unknown) => {
    const t = await load(c);
    const b =
      typeof before === 'string'
        ? before
        : (before as { configurable?: { checkpoint_id?: string } } | null)?.configurable?.checkpoint_id;
    return threadHistory(t.threadId, await conversation(t), limit, b ?? undefined);
  };
  const search = async (c: Call, limit: number, offset: number) => {
    const b = c.body as z.infer<typeof searchBody>;
    if (b.values !== undefined && b.values !== null)
      throw new ApiError(422, 'filtering threads by values is not supported');
    return searchThreads(ctx.db, c.caller.keyId, {
      metadata: b.metadata ?? undefined,
      ids: b.ids ?? undefined,
      status: b.status ?? undefined,
      limit,
      offset,
      sortBy: b.sort_by ?? 'created_at',
      sortOrder: b.sort_order ?? 'desc',
    });
  };

  return [
    op({
      method: 'POST',
      path: '/threads',
      tag: 'Threads',
      summary: 'Create a thread (a gateway conversation)',
      body: createBody,
      responses: { 200: 'The thread', 409: 'thread_id exists (if_exists raise)', 422: 'Invalid body' },
      handler: async (c) => {
        const b = c.body as z.infer<typeof createBody>;
        if (b.supersteps?.length) throw new ApiError(422, 'supersteps are not supported: add messages with a run');
        if (b.ttl !== undefined && b.ttl !== null) throw new ApiError(422, 'ttl is not supported');
        const id = (b.thread_id ?? randomUUID()).toLowerCase();
        const meta = Object.fromEntries(Object.entries(b.metadata ?? {}).filter(([, v]) => v !== undefined));
        const created = await insertThread(ctx.db, c.caller.keyId, id, meta);
        if (created) return toThread(created);
        if (b.if_exists === 'do_nothing') return withValues((await getThread(ctx.db, c.caller.keyId, id))!);
        throw new ApiError(409, `thread ${id} already exists`);
      },
    }),
    op({
      method: 'POST',
      path: '/threads/search',
      tag: 'Threads',
      summary: 'Search threads by metadata, ids and status',
      body: searchBody,
      responses: { 200: 'Threads' },
      handler: async (c) => {
        const b = c.body as z.infer<typeof searchBody>;
        const rows = await search(c, b.limit, b.offset);
        return Promise.all(rows.map((t) => (b.select?.includes('values') ? withValues(t) : toThread(t))));
      },
    }),
    op({
      method: 'POST',
      path: '/threads/count',
      tag: 'Threads',
      summary: 'Count threads matching filters',
      body: countBody,
      responses: { 200: 'A number' },
      handler: async (c) => (await search(c, 10_000, 0)).length,
    }),
    op({
      method: 'GET',
      path: '/threads/{thread_id}',
      tag: 'Threads',
      summary: 'Get a thread with its messages',
      responses: { 200: 'The thread', 404: 'Not found' },
      handler: async (c) => withValues(await load(c)),
    }),
    op({
      method: 'PATCH',
      path: '/threads/{thread_id}',
      tag: 'Threads',
      summary: 'Merge new metadata into a thread',
      body: patchBody,
      responses: { 200: 'The thread', 404: 'Not found' },
      handler: async (c) => {
        const id = uuidParam(c.params, 'thread_id', 'thread');
        const b = c.body as z.infer<typeof patchBody>;
        if (b.ttl !== undefined && b.ttl !== null) throw new ApiError(422, 'ttl is not supported');
        const t = await patchThreadMetadata(ctx.db, c.caller.keyId, id, b.metadata ?? {});
        if (!t) throw notFound(`thread ${id}`);
        return toThread(t);
      },
    }),
    op({
      method: 'DELETE',
      path: '/threads/{thread_id}',
      tag: 'Threads',
      summary: "Delete a thread, its runs and crons (the conversation's session stays in the database for audit)",
      responses: { 204: 'Deleted', 404: 'Not found' },
      handler: async (c) => {
        const id = uuidParam(c.params, 'thread_id', 'thread');
        if (!(await ctx.runs.deleteThread(c.caller.keyId, id))) throw notFound(`thread ${id}`);
        return c.reply.code(204).send();
      },
    }),
    op({
      method: 'GET',
      path: '/threads/{thread_id}/state',
      tag: 'Threads',
      summary: "The thread's current state: {values: {messages}}",
      query: z.object({ subgraphs: z.unknown().optional() }),
      responses: { 200: 'ThreadState', 404: 'Not found' },
      handler: async (c) => {
        const t = await load(c);
        const state = threadState(t.threadId, await conversation(t));
        return state && withInterrupt(state, await waitingApproval(ctx.db, conversationKeyOf(t)));
      },
    }),
    op({
      method: 'GET',
      path: '/threads/{thread_id}/state/{checkpoint_id}',
      tag: 'Threads',
      summary: 'The state after one turn (checkpoint id = turn id)',
      responses: { 200: 'ThreadState', 404: 'Thread or checkpoint not found' },
      handler: async (c) => {
        const t = await load(c);
        const s = threadState(t.threadId, await conversation(t), c.params.checkpoint_id);
        if (!s) throw notFound(`checkpoint ${c.params.checkpoint_id}`);
        return s;
      },
    }),
    op({
      method: 'POST',
      path: '/threads/{thread_id}/history',
      tag: 'Threads',
      summary: 'States after each turn, newest first',
      body: historyBody,
      responses: { 200: 'ThreadState[]', 404: 'Not found' },
      handler: async (c) =>
        history(c, (c.body as z.infer<typeof historyBody>).limit, (c.body as z.infer<typeof historyBody>).before),
    }),
    op({
      method: 'GET',
      path: '/threads/{thread_id}/history',
      tag: 'Threads',
      summary: 'Agent Protocol form of history',
      query: historyQuery,
      responses: { 200: 'ThreadState[]', 404: 'Not found' },
      handler: async (c) =>
        history(c, (c.query as z.infer<typeof historyQuery>).limit, (c.query as z.infer<typeof historyQuery>).before),
    }),
  ];
}
