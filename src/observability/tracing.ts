/**
 * OpenTelemetry traces: one trace per message, from the webhook through the queue, the turn, the model and tool
 * calls, to the delivered parts. Off unless OTEL_EXPORTER_OTLP_ENDPOINT (or _TRACES_ENDPOINT) or TRACING is set;
 * when off, the tracer is the API's no-op one and nothing is propagated or stored.
 *
 * What a span may carry: platform, tenant, agent and model names, token counts, outcomes, counts and indexes, and
 * the conversation key only as a hash (DM keys contain a user id). Never message text, model output, tool
 * arguments or results. The context crosses processes as a W3C traceparent on the inbox entry (never in the
 * BullMQ job data: one job serves many messages) and, for delivery, in a short-lived Redis key per turn.
 */
import { createHash } from 'node:crypto';
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type SpanOptions,
} from '@opentelemetry/api';
import { setTraceProcessors, setTracingDisabled } from '@openai/agents';
import { AgentsTraceBridge } from './agents-trace-bridge.js';

export const TRACER_NAME = 'chat-gateway';
export const tracer = () => trace.getTracer(TRACER_NAME);

export interface TracingOptions {
  /** Full OTLP/HTTP traces URL (…/v1/traces). */
  url: string;
  serviceName: string;
  /** Longest a finished span waits before it is exported (the batch processor's schedule delay). */
  exportDelayMs: number;
}

export interface TracingConfig {
  TRACING: boolean;
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string;
  OTEL_SERVICE_NAME: string;
  OTEL_BSP_SCHEDULE_DELAY: number;
}

/** The exporter settings the configuration asks for, or undefined when tracing is off. */
export function tracingOptions(c: TracingConfig): TracingOptions | undefined {
  const base = c.OTEL_EXPORTER_OTLP_ENDPOINT ?? (c.TRACING ? 'http://localhost:4318' : undefined);
  const url = c.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? (base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined);
  if (!url) return undefined;
  return { url, serviceName: c.OTEL_SERVICE_NAME, exportDelayMs: c.OTEL_BSP_SCHEDULE_DELAY };
}

interface Installed {
  provider: { forceFlush(): Promise<void>; shutdown(): Promise<void> };
  users: number;
}
// The OTel API's providers are process-wide: one per process, shared by the apps a test runs in one process.
let installed: Installed | undefined;

export interface Tracing {
  /** Exports what is buffered and, for the last user in the process, removes the provider. */
  shutdown(): Promise<void>;
  flush(): Promise<void>;
}

const NO_TRACING: Tracing = { shutdown: async () => undefined, flush: async () => undefined };

/**
 * Installs the tracer provider (OTLP over HTTP, JSON), the W3C propagator and the async context manager, and routes
 * the Agents SDK's own traces into it (the bridge), replacing the SDK's default export to OpenAI.
 */
export async function startTracing(o: TracingOptions | undefined): Promise<Tracing> {
  if (!o) return NO_TRACING;
  if (!installed) {
    // Loaded only when tracing is on: the trace SDK and its two process-wide pieces (context across awaits, the
    // W3C propagator), not the Node SDK bundle, which loads every exporter and the metrics and logs SDKs with it
    // (measured: ~58 MB of RSS and ~0.9 s of CPU at each process start, against ~17 MB and ~0.13 s).
    const [
      { OTLPTraceExporter },
      { BasicTracerProvider, BatchSpanProcessor },
      { resourceFromAttributes },
      sem,
      { AsyncLocalStorageContextManager },
      { W3CTraceContextPropagator },
    ] = await Promise.all([
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/sdk-trace-base'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/semantic-conventions'),
      import('@opentelemetry/context-async-hooks'),
      import('@opentelemetry/core'),
    ]);
    if (installed) return startTracing(o); // another app in this process installed it meanwhile
    // The sampler comes from OTEL_TRACES_SAMPLER / _ARG (read by the SDK; default: every trace).
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ [sem.ATTR_SERVICE_NAME]: o.serviceName }),
      spanProcessors: [
        new BatchSpanProcessor(new OTLPTraceExporter({ url: o.url }), { scheduledDelayMillis: o.exportDelayMs }),
      ],
    });
    trace.setGlobalTracerProvider(provider);
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    setTraceProcessors([new AgentsTraceBridge()]);
    setTracingDisabled(false);
    installed = { provider, users: 0 };
  }
  const mine = installed;
  mine.users++;
  let done = false;
  return {
    flush: () => mine.provider.forceFlush(),
    async shutdown() {
      if (done) return;
      done = true;
      await mine.provider.forceFlush().catch(() => undefined);
      if (--mine.users > 0) return;
      await mine.provider.shutdown().catch(() => undefined);
      setTraceProcessors([]);
      setTracingDisabled(true);
      trace.disable();
      context.disable();
      propagation.disable();
      if (installed === mine) installed = undefined;
    },
  };
}

/** True when spans are recorded (a provider is installed): callers skip work that only feeds traces. */
export function tracingOn(): boolean {
  return installed !== undefined;
}

/** The conversation key as span attributes carry it: DM keys hold a user id, so only a short hash goes out. */
function conversationHash(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

/** The span attribute naming the conversation, hashed only when spans are recorded (a hash on every turn is not free). */
export function conversationAttr(key: string): { 'conversation.hash'?: string } {
  return tracingOn() ? { 'conversation.hash': conversationHash(key) } : {};
}

/** The active (or given) context as a W3C traceparent; undefined when tracing is off. */
export function traceparentOf(ctx: Context = context.active()): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier.traceparent;
}

/** The context a traceparent names (the root context when there is none). */
export function contextOf(traceparent: string | undefined): Context {
  if (!traceparent) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, { traceparent });
}

/** A link to the span a traceparent names (messages batched into another message's turn). */
export function linkTo(traceparent: string | undefined): Link[] {
  const sc = trace.getSpanContext(contextOf(traceparent));
  return sc && trace.isSpanContextValid(sc) ? [{ context: sc }] : [];
}

/**
 * Runs `fn` in a new active span under `parent` (default: the active context), ending it when `fn` settles. A
 * failure marks the span with its error class only: error messages may quote what a user or the model wrote.
 */
export async function inSpan<T>(
  name: string,
  options: SpanOptions,
  fn: (span: Span) => Promise<T>,
  parent: Context = context.active(),
): Promise<T> {
  return tracer().startActiveSpan(name, options, parent, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR });
      span.setAttribute('error.type', (err as Error)?.name ?? 'Error');
      throw err;
    } finally {
      span.end();
    }
  });
}

/** A span that already happened (queue wait: from the inbox append to the turn's start). */
export function recordSpan(
  name: string,
  startMs: number,
  endMs: number,
  attributes: Attributes,
  parent: Context,
): void {
  const span = tracer().startSpan(name, { kind: SpanKind.INTERNAL, startTime: startMs, attributes }, parent);
  span.end(endMs);
}

export { SpanKind };
