/**
 * A turn's place in the traces. Its span lives in the trace of the turn's first message (from the traceparent
 * the ingress sink put on the inbox entry); the other messages batched into it are linked. Each message's own
 * trace also gets a "queue wait" span: from its inbox append (the stream id's time) to the turn's start.
 * Delivery runs as another job, possibly on another worker: the turn's traceparent is kept in Redis for it.
 */
import type { Span } from '@opentelemetry/api';
import type { Redis } from 'ioredis';
import type { InboundEvent } from '../core/types.js';
import {
  contextOf,
  conversationAttr,
  inSpan,
  linkTo,
  recordSpan,
  SpanKind,
  traceparentOf,
  tracingOn,
} from './tracing.js';

/** Long enough for any delivery retry; the key is removed by expiry only (a delivery may be retried). */
const TURN_TRACE_TTL_SECONDS = 24 * 3600;

export function inTurnSpan<T>(
  conversationKey: string,
  fresh: InboundEvent[],
  enqueuedAt: Map<string, number>,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const first = fresh[0]!;
  const now = Date.now();
  if (tracingOn()) {
    for (const e of fresh) {
      const at = enqueuedAt.get(e.id);
      if (!e.traceparent || at === undefined) continue;
      recordSpan('queue wait', Math.min(at, now), now, { platform: e.platform }, contextOf(e.traceparent));
    }
  }
  const attributes = {
    platform: first.platform,
    tenant: first.tenant,
    ...conversationAttr(conversationKey),
    'turn.events': fresh.length,
  };
  const links = fresh.slice(1).flatMap((e) => linkTo(e.traceparent));
  return inSpan('turn', { kind: SpanKind.CONSUMER, attributes, links }, fn, contextOf(first.traceparent));
}

/** What the turn came to: outcome, model and tokens (counts only). */
export function endTurnSpan(
  span: Span,
  outcome: string,
  usage: { inputTokens: number; outputTokens: number; model: string },
  stale: boolean,
): void {
  span.setAttributes({
    'turn.outcome': stale ? 'stale' : outcome,
    'gen_ai.request.model': usage.model,
    'gen_ai.usage.input_tokens': usage.inputTokens,
    'gen_ai.usage.output_tokens': usage.outputTokens,
  });
}

/** Keeps the active (turn) span's traceparent for the turn's delivery; nothing when tracing is off. */
export async function rememberTurnTrace(
  redis: Redis,
  key: ((turnId: string) => string) | undefined,
  turnId: string,
): Promise<void> {
  const traceparent = key && tracingOn() ? traceparentOf() : undefined;
  if (traceparent) await redis.set(key!(turnId), traceparent, 'EX', TURN_TRACE_TTL_SECONDS);
}

/** The traceparent a turn left for its delivery (undefined when tracing is off or none was kept). */
export async function turnTrace(
  redis: Redis,
  key: ((turnId: string) => string) | undefined,
  turnId: string,
): Promise<string | undefined> {
  if (!key || !tracingOn()) return undefined;
  return (await redis.get(key(turnId)).catch(() => null)) ?? undefined;
}
