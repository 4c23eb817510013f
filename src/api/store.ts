/**
 * The LangGraph store: JSON items under namespaces (label paths), in CockroachDB, scoped per API key.
 * Search takes a namespace prefix, an exact-match `filter` (JSONB containment) and an optional `query`, which is
 * a case-insensitive text match over the item (semantic search is not wired to the memory module here).
 * Items with a `ttl` (minutes) expire; reading one refreshes its TTL unless `refresh_ttl` is false.
 */
import { retrySerializable } from '../db/retry.js';
import { and, desc, eq, sql as dsql } from 'drizzle-orm';
import { z } from 'zod';
import type { ApiContext } from './context.js';
import { ApiError, op, type Caller, type Operation } from './http.js';
import { apiStoreItems } from './schema.js';

const label = z
  .string()
  .min(1)
  .max(200)
  .refine((s) => !s.includes('.'), 'namespace labels cannot contain "."');
const namespace = z.array(label).min(1).max(20);
const itemKey = z.string().min(1).max(1024);
const record = z.record(z.string(), z.unknown());

const putBody = z.object({
  namespace,
  key: itemKey,
  value: record,
  index: z.unknown().optional().describe('ignored: items are not embedded'),
  ttl: z.number().positive().nullish().describe('minutes until the item expires'),
});
const deleteBody = z.object({ namespace, key: itemKey });
const getQuery = z.object({
  namespace: z.union([z.string(), z.array(z.string())]).describe('labels joined by "." (or repeated)'),
  key: itemKey,
  refresh_ttl: z.enum(['true', 'false', '1', '0']).optional(),
});
const searchBody = z.object({
  namespace_prefix: z.array(label).default([]),
  filter: record.nullish().describe('exact matches on value fields'),
  limit: z.number().int().min(1).max(1000).default(10),
  offset: z.number().int().min(0).default(0),
  query: z.string().nullish(),
  refresh_ttl: z.boolean().nullish(),
});
const namespacesBody = z.object({
  prefix: z.array(z.string()).nullish(),
  suffix: z.array(z.string()).nullish(),
  max_depth: z.number().int().min(1).nullish(),
  limit: z.number().int().min(1).max(1000).default(100),
  offset: z.number().int().min(0).default(0),
});

type Row = typeof apiStoreItems.$inferSelect;
const live = dsql`(${apiStoreItems.expiresAt} is null or ${apiStoreItems.expiresAt} > now())`;
const expiry = (ttl: number | null | undefined) => (ttl ? new Date(Date.now() + ttl * 60_000) : null);

function toItem(r: Row): Record<string, unknown> {
  return {
    namespace: r.namespace.split('.'),
    key: r.key,
    value: r.value,
    created_at: r.createdAt.toISOString(),
    updated_at: r.updatedAt.toISOString(),
  };
}

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export function storeOperations(ctx: ApiContext): Operation[] {
  const { db } = ctx;
  const refresh = async (caller: Caller, rows: Row[]) => {
    for (const r of rows) {
      if (!r.ttlMinutes) continue;
      await retrySerializable(() =>
        db
          .update(apiStoreItems)
          .set({ expiresAt: expiry(r.ttlMinutes) })
          .where(
            and(
              eq(apiStoreItems.keyId, caller.keyId),
              eq(apiStoreItems.namespace, r.namespace),
              eq(apiStoreItems.key, r.key),
            ),
          ),
      );
    }
  };

  return [
    op({
      method: 'PUT',
      path: '/store/items',
      tag: 'Store',
      summary: 'Store or replace an item',
      body: putBody,
      responses: { 204: 'Stored', 422: 'Invalid body' },
      handler: async (c) => {
        const b = c.body as z.infer<typeof putBody>;
        const ns = b.namespace.join('.');
        const now = new Date();
        await retrySerializable(() =>
          db
            .insert(apiStoreItems)
            .values({
              keyId: c.caller.keyId,
              namespace: ns,
              key: b.key,
              value: b.value,
              ttlMinutes: b.ttl ?? null,
              expiresAt: expiry(b.ttl),
            })
            .onConflictDoUpdate({
              target: [apiStoreItems.keyId, apiStoreItems.namespace, apiStoreItems.key],
              set: { value: b.value, ttlMinutes: b.ttl ?? null, expiresAt: expiry(b.ttl), updatedAt: now },
            }),
        );
        return c.reply.code(204).send();
      },
    }),
    op({
      method: 'GET',
      path: '/store/items',
      tag: 'Store',
      summary: 'Get an item; answers null when it does not exist',
      query: getQuery,
      responses: { 200: 'The item or null', 422: 'Invalid query' },
      handler: async (c) => {
        const q = c.query as z.infer<typeof getQuery>;
        const labels = Array.isArray(q.namespace) ? q.namespace : q.namespace.split('.');
        if (!namespace.safeParse(labels).success) throw new ApiError(422, 'namespace: 1 to 20 non-empty labels');
        const [row] = await retrySerializable(() =>
          db
            .select()
            .from(apiStoreItems)
            .where(
              and(
                eq(apiStoreItems.keyId, c.caller.keyId),
                eq(apiStoreItems.namespace, labels.join('.')),
                eq(apiStoreItems.key, q.key),
                live,
              ),
            ),
        );
        if (!row) return null;
        if (q.refresh_ttl !== 'false' && q.refresh_ttl !== '0') await refresh(c.caller, [row]);
        return toItem(row);
      },
    }),
    op({
      method: 'DELETE',
      path: '/store/items',
      tag: 'Store',
      summary: 'Delete an item (no error when missing)',
      body: deleteBody,
      responses: { 204: 'Deleted' },
      handler: async (c) => {
        const b = c.body as z.infer<typeof deleteBody>;
        await retrySerializable(() =>
          db
            .delete(apiStoreItems)
            .where(
              and(
                eq(apiStoreItems.keyId, c.caller.keyId),
                eq(apiStoreItems.namespace, b.namespace.join('.')),
                eq(apiStoreItems.key, b.key),
              ),
            ),
        );
        return c.reply.code(204).send();
      },
    }),
    op({
      method: 'POST',
      path: '/store/items/search',
      tag: 'Store',
      summary: 'Search items by namespace prefix, exact-match filter and text query',
      body: searchBody,
      responses: { 200: '{items}', 422: 'Invalid body' },
      handler: async (c) => {
        const b = c.body as z.infer<typeof searchBody>;
        const where = [eq(apiStoreItems.keyId, c.caller.keyId), live];
        if (b.namespace_prefix.length) {
          const p = b.namespace_prefix.join('.');
          where.push(
            dsql`(${apiStoreItems.namespace} = ${p} or left(${apiStoreItems.namespace}, ${p.length + 1}) = ${`${p}.`})`,
          );
        }
        if (b.filter && Object.keys(b.filter).length) {
          if (
            Object.keys(b.filter).some((k) => k.startsWith('$')) ||
            Object.values(b.filter).some(
              (v) => v && typeof v === 'object' && Object.keys(v).some((k) => k.startsWith('$')),
            )
          ) {
            throw new ApiError(422, 'filter operators ($eq, $gt, ...) are not supported; use exact values');
          }
          where.push(dsql`${apiStoreItems.value} @> ${JSON.stringify(b.filter)}::jsonb`);
        }
        if (b.query) where.push(dsql`${apiStoreItems.value}::text ilike ${`%${escapeLike(b.query)}%`}`);
        const rows = await retrySerializable(() =>
          db
            .select()
            .from(apiStoreItems)
            .where(and(...where))
            .orderBy(desc(apiStoreItems.updatedAt), apiStoreItems.namespace, apiStoreItems.key)
            .limit(b.limit)
            .offset(b.offset),
        );
        if (b.refresh_ttl !== false) await refresh(c.caller, rows);
        return { items: rows.map(toItem) };
      },
    }),
    op({
      method: 'POST',
      path: '/store/namespaces',
      tag: 'Store',
      summary: 'List namespaces (prefix, suffix, max_depth)',
      body: namespacesBody,
      responses: { 200: '{namespaces}' },
      handler: async (c) => {
        const b = c.body as z.infer<typeof namespacesBody>;
        const rows = await retrySerializable(() =>
          db
            .selectDistinct({ ns: apiStoreItems.namespace })
            .from(apiStoreItems)
            .where(and(eq(apiStoreItems.keyId, c.caller.keyId), live)),
        );
        const starts = (a: string[], p: string[]) => p.every((l, i) => l === '*' || a[i] === l);
        const seen = new Set<string>();
        for (const { ns } of rows) {
          let labels = ns.split('.');
          if (b.prefix && !starts(labels, b.prefix)) continue;
          if (b.suffix && !starts([...labels].reverse(), [...b.suffix].reverse())) continue;
          if (b.max_depth) labels = labels.slice(0, b.max_depth);
          seen.add(labels.join('.'));
        }
        const namespaces = [...seen]
          .sort()
          .slice(b.offset, b.offset + b.limit)
          .map((s) => s.split('.'));
        return { namespaces };
      },
    }),
  ];
}

/** Deletes expired items (the sweeper calls it; reads already ignore them). */
export async function purgeExpired(ctx: Pick<ApiContext, 'db'>): Promise<number> {
  const expired = await retrySerializable(() =>
    ctx.db
      .select({ keyId: apiStoreItems.keyId, namespace: apiStoreItems.namespace, key: apiStoreItems.key })
      .from(apiStoreItems)
      .where(dsql`${apiStoreItems.expiresAt} < now()`)
      .limit(500),
  );
  for (const e of expired) {
    await retrySerializable(() =>
      ctx.db
        .delete(apiStoreItems)
        .where(
          and(
            eq(apiStoreItems.keyId, e.keyId),
            eq(apiStoreItems.namespace, e.namespace),
            eq(apiStoreItems.key, e.key),
            dsql`${apiStoreItems.expiresAt} < now()`,
          ),
        ),
    );
  }
  return expired.length;
}
