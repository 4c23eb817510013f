/**
 * A turn's trace as the OTLP receiver got it: its spans picked by name, and the parent chain every turn has,
 * whatever the ingress and whether gateway and worker share a process.
 */
import { expect } from 'vitest';
import type { ReceivedSpan } from '../fakes/otlp/receiver.js';

// SpanKind in the OTLP encoding: 1 internal, 2 server, 3 client, 4 producer, 5 consumer.
export const SERVER = 2;
export const CONSUMER = 5;

/** The one span named `name` (fails, listing the names found, when there are none or several). */
export function one(spans: ReceivedSpan[], name: string | RegExp): ReceivedSpan {
  const found = spans.filter((s) => (typeof name === 'string' ? s.name === name : name.test(s.name)));
  expect(
    found.map((s) => s.name),
    `exactly one span named ${name}`,
  ).toHaveLength(1);
  return found[0]!;
}

export interface TurnSpans {
  http: ReceivedSpan;
  ingress: ReceivedSpan;
  wait: ReceivedSpan;
  turn: ReceivedSpan;
  recall: ReceivedSpan;
  run: ReceivedSpan;
  agent: ReceivedSpan;
  /** One per model round trip of the agent. */
  steps: ReceivedSpan[];
  models: ReceivedSpan[];
  tool: ReceivedSpan;
  deliver: ReceivedSpan;
  send: ReceivedSpan;
}

/** The spans of a turn whose offline model calls `current_time` once, from the HTTP span `rootName` on. */
export function turnSpans(spans: ReceivedSpan[], rootName: string, platform: string): TurnSpans {
  return {
    http: one(spans, rootName),
    ingress: one(spans, `ingress ${platform}`),
    wait: one(spans, 'queue wait'),
    turn: one(spans, 'turn'),
    recall: one(spans, 'memory recall'),
    run: one(spans, 'agent run'),
    agent: one(spans, /^invoke_agent /),
    steps: spans.filter((s) => s.name.startsWith('agent turn ')),
    models: spans.filter((s) => s.name === 'chat offline'),
    tool: one(spans, 'execute_tool current_time'),
    deliver: one(spans, 'deliver'),
    send: one(spans, `send ${platform}`),
  };
}

/** HTTP -> ingress -> queue wait and turn -> recall, the agent run (the Agents SDK's spans) -> delivery -> send. */
export function expectTurnChain(t: TurnSpans): void {
  expect(t.http.kind).toBe(SERVER);
  expect(t.http.parentSpanId).toBe('');
  expect(t.ingress.parentSpanId).toBe(t.http.spanId);
  expect(t.wait.parentSpanId).toBe(t.ingress.spanId);
  expect(t.turn.parentSpanId).toBe(t.ingress.spanId);
  expect(t.recall.parentSpanId).toBe(t.turn.spanId);
  // The Agents SDK's own spans, bridged: its run, the agent, one span per model round trip of the agent.
  expect(t.run.parentSpanId).toBe(t.turn.spanId);
  expect(t.agent.parentSpanId).toBe(t.run.spanId);
  // The tool is asked for by the first model call and its result read by the second: two steps, a model call each.
  expect(t.steps).toHaveLength(2);
  for (const step of t.steps) expect(step.parentSpanId).toBe(t.agent.spanId);
  expect(t.models).toHaveLength(2);
  expect(new Set(t.models.map((m) => m.parentSpanId))).toEqual(new Set(t.steps.map((s) => s.spanId)));
  expect(t.steps.find((s) => s.spanId === t.tool.parentSpanId)?.attributes['agent.turn']).toBe(1);
  expect(t.deliver.parentSpanId).toBe(t.turn.spanId);
  expect(t.send.parentSpanId).toBe(t.deliver.spanId);
  expect(t.wait.startMs).toBeLessThanOrEqual(t.turn.startMs);
}
