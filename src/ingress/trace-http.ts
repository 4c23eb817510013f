/**
 * The HTTP server span of a request (webhooks, the local channel, the agent API): the first span of a message's
 * trace, or a child of the caller's when the request carries a W3C traceparent. The route's handler runs inside
 * it, so the ingress sink's span and the log lines of the request join it. Probes, metrics and the queue board
 * are not traced (they would drown the traces that matter).
 */
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { FastifyInstance, RouteHandlerMethod } from 'fastify';
import { BOARD_PATH } from '../observability/bull-board.js';
import { TRACER_NAME } from '../observability/tracing.js';

const UNTRACED = ['/healthz', '/readyz', '/metrics', BOARD_PATH];

export function traceRequests(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    if (UNTRACED.some((p) => route.url === p || route.url.startsWith(`${p}/`))) return;
    const handler = route.handler as RouteHandlerMethod;
    route.handler = function traced(req, reply) {
      const tracer = trace.getTracer(TRACER_NAME);
      const parent = propagation.extract(ROOT_CONTEXT, req.headers);
      const span = tracer.startSpan(
        `${req.method} ${route.url}`,
        { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method, 'http.route': route.url } },
        parent,
      );
      // Ends when the response is done, whichever way the handler answers (returned value or reply.send).
      reply.raw.once('close', () => {
        span.setAttribute('http.response.status_code', reply.statusCode);
        if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      });
      return context.with(trace.setSpan(parent, span), () => handler.call(this, req, reply));
    } as RouteHandlerMethod;
  });
}
