/**
 * A loopback fake of the Qdrant REST API subset our memory store uses (src/memory/store/qdrant.ts), served over
 * real HTTP on 127.0.0.1 so the official @qdrant/js-client-rest talks to it unchanged. Request bodies are validated
 * with zod (strict: a field the real server would reject, or that we do not model, is a 400) and recorded, so tests
 * assert what the client actually sent.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import {
  checkSparse,
  filterSchema,
  idKey,
  matches,
  nearest,
  QdrantError,
  rrf,
  storeDense,
  type Collection,
  type Point,
  type Scored,
} from './engine.js';

export interface RecordedRequest {
  method: string;
  /** Path without the query string, e.g. `/collections/memories__x__64/points/query`. */
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

export interface FakeQdrant {
  url: string;
  requests: RecordedRequest[];
  collections: Map<string, Collection>;
  /** Answer the next n requests with 503, as an overloaded or restarting server would. */
  failNext(n: number): void;
  /** Requests to one collection's sub-path (`points/query`, `index`, ...), optionally by method. */
  calls(collection: string, sub: string, method?: string): RecordedRequest[];
  close(): Promise<void>;
}

const sparseSchema = z
  .object({ indices: z.array(z.number().int().nonnegative()), values: z.array(z.number()) })
  .strict();
const idSchema = z.union([z.string().uuid(), z.number().int().nonnegative()]);
const withPayloadSchema = z.union([z.boolean(), z.array(z.string())]).optional();

const createSchema = z
  .object({
    vectors: z.record(
      z.string(),
      z.object({ size: z.number().int().positive(), distance: z.enum(['Cosine', 'Dot', 'Euclid', 'Manhattan']) }),
    ),
    sparse_vectors: z
      .record(z.string(), z.object({ modifier: z.enum(['idf', 'none']).optional() }).strict())
      .optional(),
  })
  .strict();
const indexSchema = z
  .object({
    field_name: z.string(),
    field_schema: z.union([
      z.enum(['keyword', 'integer', 'float', 'bool', 'geo', 'datetime', 'text', 'uuid']),
      z.object({ type: z.string(), is_tenant: z.boolean().optional() }).strict(),
    ]),
  })
  .strict();
const upsertSchema = z
  .object({
    points: z.array(
      z
        .object({
          id: idSchema,
          vector: z.record(z.string(), z.union([z.array(z.number()), sparseSchema])),
          payload: z.record(z.string(), z.unknown()).optional(),
        })
        .strict(),
    ),
  })
  .strict();
const selectorSchema = z.object({ filter: filterSchema.optional(), points: z.array(idSchema).optional() }).strict();
const setPayloadSchema = z
  .object({
    payload: z.record(z.string(), z.unknown()),
    filter: filterSchema.optional(),
    points: z.array(idSchema).optional(),
  })
  .strict();
const countSchema = z.object({ filter: filterSchema.optional(), exact: z.boolean().optional() }).strict();
const scrollSchema = z
  .object({
    filter: filterSchema.optional(),
    limit: z.number().int().positive().optional(),
    with_payload: withPayloadSchema,
    with_vector: z.boolean().optional(),
    order_by: z
      .union([z.string(), z.object({ key: z.string(), direction: z.enum(['asc', 'desc']).optional() }).strict()])
      .optional(),
  })
  .strict();
const leafSchema = z
  .object({
    query: z.union([z.array(z.number()), sparseSchema]),
    using: z.string(),
    filter: filterSchema.optional(),
    limit: z.number().int().positive().optional(),
  })
  .strict();
const querySchema = z
  .object({
    prefetch: z.union([leafSchema, z.array(leafSchema)]).optional(),
    query: z.union([z.object({ fusion: z.enum(['rrf', 'dbsf']) }).strict(), z.array(z.number()), sparseSchema]),
    using: z.string().optional(),
    filter: filterSchema.optional(),
    limit: z.number().int().positive().optional(),
    with_payload: withPayloadSchema,
    with_vector: z.boolean().optional(),
  })
  .strict();

const ok = (result: unknown) => ({ result, status: 'ok', time: 0.0001 });
const updated = () => ok({ operation_id: 0, status: 'completed' });

function shown(p: Point, withPayload: boolean | string[] | undefined) {
  const payload =
    withPayload === false
      ? undefined
      : Array.isArray(withPayload)
        ? Object.fromEntries(withPayload.map((k) => [k, p.payload[k]]))
        : p.payload;
  return { id: p.id, version: 0, payload };
}

function select(c: Collection, s: { filter?: z.infer<typeof filterSchema>; points?: (string | number)[] }): Point[] {
  const ids = s.points ? new Set(s.points.map(idKey)) : undefined;
  return [...c.points.values()].filter((p) => (!ids || ids.has(idKey(p.id))) && (!s.filter || matches(p, s.filter)));
}

function route(collections: Map<string, Collection>, method: string, path: string, body: unknown): unknown {
  const m = /^\/collections\/([^/]+)(?:\/(.+))?$/.exec(path);
  if (!m) throw new QdrantError(404, `no route ${method} ${path}`);
  const name = decodeURIComponent(m[1]!);
  const sub = m[2] ?? '';
  const c = collections.get(name);
  const need = (): Collection => {
    if (!c) throw new QdrantError(404, `Not found: Collection \`${name}\` doesn't exist!`);
    return c;
  };

  switch (`${method} ${sub}`) {
    case 'GET exists':
      return ok({ exists: !!c });
    case 'GET ': {
      const col = need();
      return ok({
        status: 'green',
        optimizer_status: 'ok',
        points_count: col.points.size,
        config: {
          params: { vectors: Object.fromEntries(col.vectors), sparse_vectors: Object.fromEntries(col.sparseVectors) },
        },
        payload_schema: Object.fromEntries(col.indexes),
      });
    }
    case 'PUT ': {
      if (c) throw new QdrantError(400, `Wrong input: Collection \`${name}\` already exists!`);
      const b = createSchema.parse(body);
      collections.set(name, {
        name,
        vectors: new Map(Object.entries(b.vectors)),
        sparseVectors: new Map(Object.entries(b.sparse_vectors ?? {})),
        indexes: new Map(),
        points: new Map(),
      });
      return ok(true);
    }
    case 'DELETE ':
      return ok(collections.delete(name));
    case 'PUT index': {
      const b = indexSchema.parse(body);
      need().indexes.set(b.field_name, b.field_schema);
      return updated();
    }
    case 'PUT points': {
      const col = need();
      for (const p of upsertSchema.parse(body).points) {
        const point: Point = { id: p.id, dense: new Map(), sparse: new Map(), payload: p.payload ?? {} };
        for (const [vn, v] of Object.entries(p.vector)) {
          if (Array.isArray(v)) point.dense.set(vn, storeDense(col, vn, v));
          else point.sparse.set(vn, checkSparse(col, vn, v));
        }
        for (const vn of col.vectors.keys())
          if (!point.dense.has(vn)) throw new QdrantError(400, `Wrong input: missing vector ${vn}`);
        col.points.set(idKey(p.id), point);
      }
      return updated();
    }
    case 'POST points/payload': {
      const b = setPayloadSchema.parse(body);
      for (const p of select(need(), b)) Object.assign(p.payload, b.payload);
      return updated();
    }
    case 'POST points/delete': {
      const col = need();
      const b = selectorSchema.parse(body);
      if (!b.filter && !b.points) throw new QdrantError(400, 'Wrong input: a points selector is required');
      for (const p of select(col, b)) col.points.delete(idKey(p.id));
      return updated();
    }
    case 'POST points/count':
      return ok({ count: select(need(), countSchema.parse(body)).length });
    case 'POST points/scroll': {
      const col = need();
      const b = scrollSchema.parse(body);
      let points = select(col, b);
      if (b.order_by) {
        const o = typeof b.order_by === 'string' ? { key: b.order_by, direction: 'asc' } : b.order_by;
        // Like Qdrant: ordering needs a range-capable payload index on the key.
        const idx = col.indexes.get(o.key);
        const type = typeof idx === 'string' ? idx : (idx as { type?: string } | undefined)?.type;
        if (!type || !['integer', 'float', 'datetime'].includes(type))
          throw new QdrantError(400, `Bad request: No range index for \`order_by\` key \`${o.key}\` found`);
        const v = (p: Point) => (type === 'datetime' ? Date.parse(String(p.payload[o.key])) : Number(p.payload[o.key]));
        points = points.sort((a, b2) => (o.direction === 'desc' ? v(b2) - v(a) : v(a) - v(b2)));
      } else points.sort((a, b2) => String(a.id).localeCompare(String(b2.id)));
      return ok({
        points: points.slice(0, b.limit ?? 10).map((p) => shown(p, b.with_payload ?? true)),
        next_page_offset: null,
      });
    }
    case 'POST points/query': {
      const col = need();
      const b = querySchema.parse(body);
      const limit = b.limit ?? 10;
      let hits: Scored[];
      if ('fusion' in b.query) {
        if (b.query.fusion !== 'rrf') throw new QdrantError(400, 'fake qdrant: only rrf fusion is modelled');
        const prefetch = b.prefetch === undefined ? [] : Array.isArray(b.prefetch) ? b.prefetch : [b.prefetch];
        if (!prefetch.length) throw new QdrantError(400, 'Wrong input: fusion needs prefetch');
        hits = rrf(prefetch.map((p) => nearest(col, p.using, p.query, p.filter, p.limit ?? 10)));
        // The top-level filter also bounds the fused result (Qdrant propagates it to every prefetch).
        hits = hits.filter((h) => matches(h.point, b.filter));
      } else {
        hits = nearest(col, b.using ?? '', b.query, b.filter, limit);
      }
      return ok({
        points: hits.slice(0, limit).map((h) => ({ ...shown(h.point, b.with_payload ?? false), score: h.score })),
      });
    }
    default:
      throw new QdrantError(404, `fake qdrant: no route ${method} /collections/{name}/${sub}`);
  }
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const ch of req) chunks.push(ch as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : undefined;
}

export async function startFakeQdrant(opts: { apiKey?: string } = {}): Promise<FakeQdrant> {
  const collections = new Map<string, Collection>();
  const requests: RecordedRequest[] = [];
  let failures = 0;
  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const server = createServer((req, res) => {
    void (async () => {
      const u = new URL(req.url ?? '/', 'http://127.0.0.1');
      let body: unknown;
      try {
        body = await readBody(req);
      } catch {
        return send(res, 400, { status: { error: 'Format error in JSON body' }, time: 0 });
      }
      requests.push({
        method: req.method ?? 'GET',
        path: u.pathname,
        query: Object.fromEntries(u.searchParams),
        headers: req.headers,
        body,
      });
      if (failures > 0 && failures--) return send(res, 503, { status: { error: 'Service Unavailable' }, time: 0 });
      if (opts.apiKey && req.headers['api-key'] !== opts.apiKey)
        return send(res, 401, { status: { error: 'Unauthorized' }, time: 0 });
      try {
        send(res, 200, route(collections, req.method ?? 'GET', u.pathname, body));
      } catch (err) {
        const status = err instanceof QdrantError ? err.status : err instanceof z.ZodError ? 400 : 500;
        send(res, status, { status: { error: `${(err as Error).message}` }, time: 0 });
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    collections,
    failNext: (n) => void (failures = n),
    calls: (collection, sub, method) =>
      requests.filter(
        (r) => r.path === `/collections/${collection}${sub ? `/${sub}` : ''}` && (!method || r.method === method),
      ),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
