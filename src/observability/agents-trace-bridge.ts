/**
 * The Agents SDK traces its own runs (agent, model call, tool call, handoff, MCP listing spans). This processor
 * turns each of its spans into an OpenTelemetry span, so model and tool spans come from the SDK itself and sit in
 * the turn's trace: an SDK span's parent is the OTel span made for its SDK parent, and a top-level one hangs off
 * the context that was active when the SDK trace started (the turn span). Nothing is exported twice: this is the
 * SDK's only processor while tracing is on.
 *
 * Only names, models, token counts and flags are copied: never span inputs or outputs (prompts, answers, tool
 * arguments and results) and never error messages (they may quote either).
 */
import { context, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';
import type { Span as SdkSpan, SpanData, Trace as SdkTrace, TracingProcessor } from '@openai/agents';

const tracer = () => trace.getTracer('chat-gateway');

/** Token counts in the SDK's usage shapes (snake_case in span data, camelCase in a raw response). */
function usageAttrs(u: Record<string, unknown> | null | undefined): Attributes {
  if (!u) return {};
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  const input = n(u.input_tokens) ?? n(u.inputTokens) ?? n(u.prompt_tokens);
  const output = n(u.output_tokens) ?? n(u.outputTokens) ?? n(u.completion_tokens);
  return {
    ...(input === undefined ? {} : { 'gen_ai.usage.input_tokens': input }),
    ...(output === undefined ? {} : { 'gen_ai.usage.output_tokens': output }),
  };
}

/** The MCP server a tool belongs to: the SDK records `{server}` on the span while the tool runs (or as JSON). */
function mcpServer(raw: unknown): string | undefined {
  let data = raw;
  if (typeof raw === 'string') {
    try {
      data = JSON.parse(raw);
    } catch {
      return undefined;
    }
  }
  const server = (data as { server?: unknown } | undefined)?.server;
  return typeof server === 'string' ? server : undefined;
}

/** Span name, kind and the attributes known at the start. */
export function describeSdkSpan(d: SpanData): { name: string; kind: SpanKind; attributes: Attributes } {
  switch (d.type) {
    case 'agent':
      return {
        name: `invoke_agent ${d.name}`,
        kind: SpanKind.INTERNAL,
        attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': d.name },
      };
    case 'generation':
      return {
        name: `chat ${d.model ?? 'model'}`,
        kind: SpanKind.CLIENT,
        attributes: { 'gen_ai.operation.name': 'chat', ...(d.model ? { 'gen_ai.request.model': d.model } : {}) },
      };
    case 'response':
      return { name: 'chat', kind: SpanKind.CLIENT, attributes: { 'gen_ai.operation.name': 'chat' } };
    case 'function':
      return {
        name: `execute_tool ${d.name}`,
        kind: SpanKind.INTERNAL,
        attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': d.name },
      };
    case 'handoff':
      return {
        name: 'handoff',
        kind: SpanKind.INTERNAL,
        attributes: {
          ...(d.from_agent ? { 'agent.handoff.from': d.from_agent } : {}),
          ...(d.to_agent ? { 'agent.handoff.to': d.to_agent } : {}),
        },
      };
    case 'mcp_tools':
      return {
        name: `mcp list_tools${d.server ? ` ${d.server}` : ''}`,
        kind: SpanKind.CLIENT,
        attributes: d.server ? { 'mcp.server': d.server } : {},
      };
    case 'guardrail':
      return { name: `guardrail ${d.name}`, kind: SpanKind.INTERNAL, attributes: { 'guardrail.name': d.name } };
    case 'turn':
      return {
        name: `agent turn ${d.turn}`,
        kind: SpanKind.INTERNAL,
        attributes: { 'gen_ai.agent.name': d.agent_name, 'agent.turn': d.turn },
      };
    case 'task':
    case 'custom':
      return { name: d.name, kind: SpanKind.INTERNAL, attributes: {} };
    default:
      return { name: d.type, kind: SpanKind.INTERNAL, attributes: {} };
  }
}

/** What is known only at the end: the model that answered, token usage, whether a guardrail fired. */
export function endAttributes(d: SpanData): Attributes {
  switch (d.type) {
    case 'function': {
      const server = mcpServer(d.mcp_data);
      return server ? { 'mcp.server': server } : {};
    }
    case 'agent':
      return { 'agent.tools': d.tools?.length ?? 0, 'agent.handoffs': d.handoffs?.length ?? 0 };
    case 'generation':
      return { ...(d.model ? { 'gen_ai.response.model': d.model } : {}), ...usageAttrs(d.usage) };
    case 'response': {
      const r = d._response as { model?: unknown; usage?: Record<string, unknown> } | undefined;
      return {
        ...(typeof r?.model === 'string' ? { 'gen_ai.response.model': r.model } : {}),
        ...(d.response_id ? { 'gen_ai.response.id': d.response_id } : {}),
        ...usageAttrs(r?.usage),
      };
    }
    case 'guardrail':
      return { 'guardrail.triggered': d.triggered };
    case 'turn':
    case 'task':
      return usageAttrs(d.usage);
    case 'mcp_tools':
      return { 'mcp.tools': d.result?.length ?? 0 };
    default:
      return {};
  }
}

const time = (iso: string | null) => (iso ? new Date(iso) : undefined);

/** Entries a run never closed (a process cut mid-run) must not pile up in a long-lived worker. */
const MAX_OPEN = 10_000;
function remember<V>(map: Map<string, V>, key: string, value: V): void {
  if (map.size >= MAX_OPEN) map.delete(map.keys().next().value!);
  map.set(key, value);
}

export class AgentsTraceBridge implements TracingProcessor {
  /** SDK trace id -> the OTel context active when it started (the turn span). */
  private readonly traces = new Map<string, Context>();
  /** SDK span id -> its OTel span, while it runs. */
  private readonly spans = new Map<string, Span>();

  async onTraceStart(t: SdkTrace): Promise<void> {
    remember(this.traces, t.traceId, context.active());
  }

  async onTraceEnd(t: SdkTrace): Promise<void> {
    this.traces.delete(t.traceId);
  }

  async onSpanStart(s: SdkSpan<SpanData>): Promise<void> {
    const parentSpan = s.parentId ? this.spans.get(s.parentId) : undefined;
    const base = this.traces.get(s.traceId) ?? context.active();
    const parent = parentSpan ? trace.setSpan(base, parentSpan) : base;
    const { name, kind, attributes } = describeSdkSpan(s.spanData);
    remember(
      this.spans,
      s.spanId,
      tracer().startSpan(name, { kind, attributes, startTime: time(s.startedAt) }, parent),
    );
  }

  async onSpanEnd(s: SdkSpan<SpanData>): Promise<void> {
    const span = this.spans.get(s.spanId);
    if (!span) return;
    this.spans.delete(s.spanId);
    span.setAttributes(endAttributes(s.spanData));
    if (s.error) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end(time(s.endedAt));
  }

  async shutdown(): Promise<void> {
    for (const span of this.spans.values()) span.end();
    this.spans.clear();
    this.traces.clear();
  }

  async forceFlush(): Promise<void> {}
}
