/**
 * One table of operations drives both the HTTP routes and the OpenAPI document (openapi.ts), so the document can
 * only list what is actually served. Each operation names its path in OpenAPI form (`/threads/{thread_id}`), its
 * zod body / query schemas (validated here; their JSON Schema goes into the document) and a handler.
 *
 * Every route in the API scope needs a valid `x-api-key` (401) and a token from the key's bucket (429 with
 * Retry-After). Errors answer `{ "detail": "..." }` like LangGraph servers; validation errors are 422.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { IngressError } from '../core/errors.js';
import type { Db } from '../db/client.js';
import { verifyApiKey } from './auth.js';
import { takeToken, type RateLimit } from './rate-limit.js';
import { safeErr } from '../observability/logger.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const notFound = (what: string) => new ApiError(404, `${what} not found`);

export interface Caller {
  keyId: string;
  keyName: string;
}

export interface Call<B = any, Q = any> {
  caller: Caller;
  params: Record<string, string>;
  body: B;
  query: Q;
  req: FastifyRequest;
  reply: FastifyReply;
}

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface Operation {
  method: Method;
  path: string;
  summary: string;
  tag: string;
  body?: z.ZodType;
  query?: z.ZodType;
  /** Status -> description, for the document. */
  responses: Record<string, string>;
  /** The success response is a server-sent event stream. */
  sse?: boolean;
  /** Not behind the key (the document itself). */
  public?: boolean;
  /** Returns the JSON body, or undefined when it answered itself (204, streams). */
  handler(call: Call): Promise<unknown>;
}

export function op(o: Operation): Operation {
  return o;
}

/** `/threads/{thread_id}` -> `/threads/:thread_id` */
export function fastifyPath(path: string): string {
  return path.replace(/\{(\w+)\}/g, ':$1');
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Path ids are UUIDs; anything else cannot exist (and must not reach a uuid column). */
export function uuidParam(params: Record<string, string>, name: string, what: string): string {
  const v = params[name] ?? '';
  if (!UUID_RE.test(v)) throw notFound(what);
  return v.toLowerCase();
}

export function isUuid(v: string): boolean {
  return UUID_RE.test(v);
}

function issues(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
}

export interface ScopeOptions {
  db: Db;
  redis: Redis;
  log: Logger;
  rateLimit: RateLimit;
  rateKey(keyId: string): string;
}

export function registerOperations(scope: FastifyInstance, ops: Operation[], o: ScopeOptions): void {
  scope.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    if (err instanceof ApiError) return reply.code(err.status).send({ detail: err.message });
    if (err instanceof IngressError) return reply.code(err.status).send({ detail: err.message });
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500)
      return reply.code(err.statusCode).send({ detail: err.message });
    req.log.error({ err: safeErr(err), route: req.routeOptions.url }, 'api request failed');
    return reply.code(503).send({ detail: 'temporarily unavailable, retry later' });
  });

  for (const operation of ops) {
    scope.route({
      method: operation.method,
      url: fastifyPath(operation.path),
      handler: async (req, reply) => {
        let caller: Caller = { keyId: '', keyName: '' };
        if (!operation.public) {
          const header = req.headers['x-api-key'];
          const key = await verifyApiKey(o.db, Array.isArray(header) ? header[0] : header);
          if (!key) return reply.code(401).send({ detail: 'missing or invalid x-api-key' });
          const waitMs = await takeToken(o.redis, o.rateKey(key.id), o.rateLimit);
          if (waitMs > 0) {
            return reply
              .code(429)
              .header('retry-after', String(Math.max(1, Math.ceil(waitMs / 1000))))
              .send({ detail: `rate limit exceeded for this API key; retry in ${Math.ceil(waitMs / 1000)} s` });
          }
          caller = { keyId: key.id, keyName: key.name };
        }
        const body = operation.body
          ? operation.body.safeParse(req.body ?? {})
          : { success: true as const, data: req.body };
        if (!body.success) return reply.code(422).send({ detail: issues(body.error) });
        const query = operation.query
          ? operation.query.safeParse(req.query ?? {})
          : { success: true as const, data: req.query };
        if (!query.success) return reply.code(422).send({ detail: issues(query.error) });
        const out = await operation.handler({
          caller,
          params: req.params as Record<string, string>,
          body: body.data,
          query: query.data,
          req,
          reply,
        });
        if (reply.sent) return reply;
        // JSON `null` is a real answer here (store items that do not exist), so serialise it ourselves.
        return reply.type('application/json; charset=utf-8').send(JSON.stringify(out ?? null));
      },
    });
  }
}
