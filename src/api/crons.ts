/** Cron routes: create for a thread or stateless, search, count, update, delete (see cron-service.ts). */
import { retrySerializable } from '../db/retry.js';
import { randomUUID } from 'node:crypto';
import { and, asc, desc, eq } from 'drizzle-orm';
import { z } from 'zod';
import type { ApiContext } from './context.js';
import { toCron, nextRunDate } from './cron-service.js';
import { ApiError, isUuid, notFound, op, uuidParam, type Call, type Operation } from './http.js';
import { ASSISTANT_ID, isOurAssistant } from './ids.js';
import { parseRunInput } from './messages.js';
import { runCreateBody } from './run-create.js';
import { apiCrons } from './schema.js';
import { getThread } from './thread-db.js';

const cronBody = runCreateBody
  .pick({ assistant_id: true, input: true, config: true, metadata: true, multitask_strategy: true, context: true })
  .extend({
    schedule: z.string().min(1).max(200).describe('cron expression, UTC (5 fields, or 6 with seconds)'),
    end_time: z.string().datetime({ offset: true }).nullish(),
    enabled: z.boolean().optional(),
    on_run_completed: z
      .enum(['delete', 'keep'])
      .optional()
      .describe("stateless crons: delete each run's thread when done (default delete)"),
    if_not_exists: z.unknown().optional(),
    interrupt_before: z.unknown().optional(),
    interrupt_after: z.unknown().optional(),
    webhook: z.string().nullish().describe('not supported'),
  });
const searchBody = z.object({
  assistant_id: z.string().nullish(),
  thread_id: z.string().refine(isUuid, 'must be a UUID').nullish(),
  enabled: z.boolean().nullish(),
  limit: z.number().int().min(1).max(1000).default(10),
  offset: z.number().int().min(0).default(0),
  sort_by: z.enum(['cron_id', 'assistant_id', 'thread_id', 'created_at', 'updated_at', 'next_run_date']).nullish(),
  sort_order: z.enum(['asc', 'desc']).nullish(),
  select: z.array(z.string()).nullish(),
});
const patchBody = cronBody.partial().omit({ on_run_completed: true });

export function cronOperations(ctx: ApiContext): Operation[] {
  const create = (stateless: boolean) => async (c: Call) => {
    const b = c.body as z.infer<typeof cronBody>;
    if (b.webhook) throw new ApiError(422, 'webhook is not supported by this gateway');
    if (!isOurAssistant(b.assistant_id)) throw notFound(`assistant ${b.assistant_id}`);
    parseRunInput(b.input); // refuse a bad payload now, not at every firing
    nextRunDate(b.schedule);
    let threadId: string | null = null;
    if (!stateless) {
      threadId = uuidParam(c.params, 'thread_id', 'thread');
      if (!(await getThread(ctx.db, c.caller.keyId, threadId))) throw notFound(`thread ${threadId}`);
    }
    const [row] = await retrySerializable(() =>
      ctx.db
        .insert(apiCrons)
        .values({
          keyId: c.caller.keyId,
          cronId: randomUUID(),
          threadId,
          assistantId: ASSISTANT_ID,
          schedule: b.schedule,
          payload: {
            input: b.input,
            config: b.config ?? undefined,
            metadata: b.metadata ?? undefined,
            multitask_strategy: b.multitask_strategy,
          },
          metadata: {},
          onRunCompleted: b.on_run_completed ?? 'delete',
          endTime: b.end_time ? new Date(b.end_time) : null,
          enabled: b.enabled ?? true,
        })
        .returning(),
    );
    // Row first, scheduler second: the reconciler removes schedulers without rows, never the other way round.
    await ctx.crons.sync(row!);
    return toCron(row!);
  };

  const filters = (c: Call) => {
    const b = c.body as z.infer<typeof searchBody>;
    const where = [eq(apiCrons.keyId, c.caller.keyId)];
    if (b.assistant_id && !isOurAssistant(b.assistant_id)) where.push(eq(apiCrons.assistantId, b.assistant_id));
    if (b.thread_id) where.push(eq(apiCrons.threadId, b.thread_id.toLowerCase()));
    if (b.enabled !== undefined && b.enabled !== null) where.push(eq(apiCrons.enabled, b.enabled));
    return and(...where);
  };

  return [
    op({
      method: 'POST',
      path: '/threads/{thread_id}/runs/crons',
      tag: 'Crons',
      summary: 'Create a cron that runs on this thread',
      body: cronBody,
      responses: { 200: 'The cron', 404: 'Thread not found', 422: 'Invalid schedule or payload' },
      handler: create(false),
    }),
    op({
      method: 'POST',
      path: '/runs/crons',
      tag: 'Crons',
      summary: 'Create a stateless cron (each firing runs on a new thread)',
      body: cronBody,
      responses: { 200: 'The cron', 422: 'Invalid schedule or payload' },
      handler: create(true),
    }),
    op({
      method: 'POST',
      path: '/runs/crons/search',
      tag: 'Crons',
      summary: 'Search crons',
      body: searchBody,
      responses: { 200: 'Crons' },
      handler: async (c) => {
        const b = c.body as z.infer<typeof searchBody>;
        const col = {
          cron_id: apiCrons.cronId,
          assistant_id: apiCrons.assistantId,
          thread_id: apiCrons.threadId,
          created_at: apiCrons.createdAt,
          updated_at: apiCrons.updatedAt,
          next_run_date: apiCrons.createdAt,
        }[b.sort_by ?? 'created_at'];
        const rows = await retrySerializable(() =>
          ctx.db
            .select()
            .from(apiCrons)
            .where(filters(c))
            .orderBy(b.sort_order === 'asc' ? asc(col) : desc(col), asc(apiCrons.cronId))
            .limit(b.limit)
            .offset(b.offset),
        );
        return rows.map(toCron);
      },
    }),
    op({
      method: 'POST',
      path: '/runs/crons/count',
      tag: 'Crons',
      summary: 'Count crons',
      body: searchBody.pick({ assistant_id: true, thread_id: true }),
      responses: { 200: 'A number' },
      handler: async (c) => (await ctx.db.select({ id: apiCrons.cronId }).from(apiCrons).where(filters(c))).length,
    }),
    op({
      method: 'PATCH',
      path: '/runs/crons/{cron_id}',
      tag: 'Crons',
      summary: 'Update a cron (schedule, payload, end_time, enabled)',
      body: patchBody,
      responses: { 200: 'The cron', 404: 'Not found', 422: 'Invalid schedule or payload' },
      handler: async (c) => {
        const id = uuidParam(c.params, 'cron_id', 'cron');
        const cur = await ctx.crons.get(c.caller.keyId, id);
        if (!cur) throw notFound(`cron ${id}`);
        const b = c.body as z.infer<typeof patchBody>;
        if (b.schedule) nextRunDate(b.schedule);
        if (b.input !== undefined) parseRunInput(b.input);
        const payload = { ...(cur.payload as Record<string, unknown>) };
        for (const k of ['input', 'config', 'metadata', 'multitask_strategy'] as const)
          if (b[k] !== undefined) payload[k] = b[k];
        const [row] = await retrySerializable(() =>
          ctx.db
            .update(apiCrons)
            .set({
              schedule: b.schedule ?? cur.schedule,
              payload,
              enabled: b.enabled ?? cur.enabled,
              updatedAt: new Date(),
              endTime: b.end_time === undefined ? cur.endTime : b.end_time ? new Date(b.end_time) : null,
            })
            .where(and(eq(apiCrons.keyId, c.caller.keyId), eq(apiCrons.cronId, id)))
            .returning(),
        );
        if (!row) throw notFound(`cron ${id}`);
        await ctx.crons.sync(row);
        return toCron(row);
      },
    }),
    op({
      method: 'DELETE',
      path: '/runs/crons/{cron_id}',
      tag: 'Crons',
      summary: 'Delete a cron and its scheduler',
      responses: { 204: 'Deleted', 404: 'Not found' },
      handler: async (c) => {
        const id = uuidParam(c.params, 'cron_id', 'cron');
        const gone = await retrySerializable(() =>
          ctx.db
            .delete(apiCrons)
            .where(and(eq(apiCrons.keyId, c.caller.keyId), eq(apiCrons.cronId, id)))
            .returning({ id: apiCrons.cronId }),
        );
        if (!gone.length) throw notFound(`cron ${id}`);
        await ctx.crons.removeSchedulers(c.caller.keyId, [id]);
        return c.reply.code(204).send();
      },
    }),
  ];
}
