/**
 * Webhook routes need the exact bytes the platform signed, so adapters register their routes in a Fastify scope
 * where every body arrives as a raw Buffer (bounded by `bodyLimit`). Adapters verify first, then parse with zod.
 */
import type { FastifyInstance } from 'fastify';
import type { ChannelAdapter, IngressSink } from '../core/adapter.js';

export async function registerAdapterRoutes(
  app: FastifyInstance,
  adapter: ChannelAdapter,
  sink: IngressSink,
  bodyLimit = 1024 * 1024,
): Promise<void> {
  if (!adapter.registerRoutes) return;
  await app.register(
    async (scope) => {
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_req, body, done) => done(null, body));
      adapter.registerRoutes!(scope, sink);
    },
    { prefix: '' },
  );
}
