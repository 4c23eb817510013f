/**
 * The HTTP server of every process: health and metrics everywhere, and in gateway processes the adapters'
 * webhook routes. Bad input never crashes anything: it gets a clear 4xx and nothing is enqueued.
 */
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { ChannelAdapter, ChannelHealth, IngressSink } from '../core/adapter.js';
import { IngressError } from '../core/errors.js';
import { registry } from '../observability/metrics.js';
import { parseJson } from './json.js';
import { registerAdapterRoutes } from './raw-body.js';
import { safeErr } from '../observability/logger.js';
import { lazyChild } from '../observability/lazy-child.js';
import { traceRequests } from './trace-http.js';

export interface ServerOptions {
  log: Logger;
  /** Adapters whose routes this process serves (none in worker-only processes). */
  adapters: ChannelAdapter[];
  sink?: IngressSink;
  /** Largest request body accepted, in bytes. */
  bodyLimit: number;
  /** Dependency checks for /readyz: name -> throws when not ready. */
  checks: Record<string, () => Promise<unknown>>;
  /** Channel states for /readyz: shown, but a down channel does not make the process unready (see README). */
  channels?: () => Record<string, ChannelHealth>;
  /** Refresh sampled metrics (queue depth and lag) just before a scrape. */
  beforeMetrics?: () => Promise<void>;
}

export async function buildServer(o: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    // Request lines only at debug: a busy gateway logs outcomes, not every webhook hit.
    loggerInstance: o.log.child(
      { component: 'http' },
      { level: o.log.level === 'debug' || o.log.level === 'trace' ? o.log.level : 'warn' },
    ) as unknown as FastifyBaseLogger,
    // Each request's logger (its reqId) is made only if the request writes a line (src/observability/lazy-child.ts).
    childLoggerFactory: (logger, bindings, opts) =>
      Object.keys(opts).length
        ? logger.child(bindings, opts)
        : (lazyChild(logger as unknown as Logger, bindings) as unknown as FastifyBaseLogger),
    bodyLimit: o.bodyLimit,
    // A client that trickles its request (slowloris) is cut after 30 s; fastify's default is no limit. This bounds
    // receiving the request only: long-polls and SSE responses may run longer.
    requestTimeout: 30_000,
  }) as unknown as FastifyInstance;

  // JSON bodies outside the adapters' raw scopes (the agent API): bounded nesting, and no text a database refuses
  // (NUL, unpaired surrogates), so such a body is a clear 400 instead of a stack overflow or a failed insert.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    if (body === '') return done(null, undefined);
    try {
      done(null, parseJson(body as string, { storable: true }));
    } catch (err) {
      done(
        Object.assign(
          new Error(
            `invalid JSON body: ${(err as Error).name === 'SyntaxError' ? 'malformed' : (err as Error).message}`,
          ),
          { statusCode: 400 },
        ),
        undefined,
      );
    }
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof IngressError) return reply.code(err.status).send({ error: err.message });
    if (err.statusCode === 413 || err.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      return reply.code(413).send({ error: 'request body too large' });
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500)
      return reply.code(err.statusCode).send({ error: err.message });
    // Redis or the database unreachable: the platform should retry later, and will.
    req.log.error({ err: safeErr(err), route: req.routeOptions.url }, 'request failed');
    return reply.code(503).send({ error: 'temporarily unavailable, retry later' });
  });

  traceRequests(app);
  app.get('/healthz', async () => ({ ok: true }));
  app.get('/readyz', async (_req, reply) => {
    const results: Record<string, { ok: boolean; detail?: string }> = {};
    await Promise.all(
      Object.entries(o.checks).map(async ([name, check]) => {
        try {
          await Promise.race([
            check(),
            new Promise((_, rej) => setTimeout(() => rej(new Error('timeout')), 2_000).unref()),
          ]);
          results[name] = { ok: true };
        } catch (err) {
          results[name] = { ok: false, detail: (err as Error).message };
        }
      }),
    );
    const ready = Object.values(results).every((r) => r.ok);
    return reply.code(ready ? 200 : 503).send({ ready, checks: results, channels: o.channels?.() ?? {} });
  });
  app.get('/metrics', async (_req, reply) => {
    await o.beforeMetrics?.().catch(() => undefined); // Redis away: serve what we have
    return reply.type(registry.contentType).send(await registry.metrics());
  });

  if (o.sink) for (const adapter of o.adapters) await registerAdapterRoutes(app, adapter, o.sink, o.bodyLimit);
  return app;
}
