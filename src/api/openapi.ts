/**
 * The OpenAPI 3.1 document, generated from the same operation table that registers the routes (http.ts): a path
 * is documented if and only if it is served, and request schemas are the zod schemas that validate requests.
 */
import { z } from 'zod';
import type { Operation } from './http.js';

const DESCRIPTION = `The gateway's agent over HTTP, in the wire format of the LangGraph SDK (\`@langchain/langgraph-sdk\`, tested
with 2.0.0) with the Agent Protocol's names as aliases. Every request needs \`x-api-key\` (401 without a valid one);
each key has its own token bucket (429 with Retry-After) and sees only its own threads, runs, crons and store items.

- A thread is a gateway conversation; a run is one message to the agent, answered by one turn through the same
  queue, workers, session and memory as every platform. Input: \`{"messages": [{"role": "user", "content": "..."}]}\`.
- \`multitask_strategy\` for a run on a busy thread: \`reject\` (default, 409), \`enqueue\`, \`interrupt\`, \`rollback\`.
  A turn already running cannot be aborted: its answer still lands in the thread.
- Streams (SSE): \`metadata\` first, heartbeat comments while waiting, then the answer. The model is not token-streamed:
  the finished answer is sent as \`messages\` deltas (stream mode \`messages-tuple\`) of about API_STREAM_CHUNK_CHARS.
- Approvals as interrupts: a run whose agent calls a tool that needs a person's approval ends like a LangGraph run
  paused at \`interrupt()\`: run \`success\`, thread \`interrupted\`, \`__interrupt__: [{id, value: {tool, args,
  approval_id, expires_at, ...}}]\` in the wait/join values and the stream's \`updates\` and final \`values\`, and
  \`interrupts\` / \`tasks[].interrupts\` in the thread state. Resume with a new run carrying only
  \`command: {"resume": <decision>}\`, the decision being \`{"approved": true|false}\`, \`"approve"\` / \`"reject"\`,
  \`true\` / \`false\` (or \`{"decision"|"type": "approve"|"reject"|"accept"|"ignore"}\`); its answer is that run's
  result. A second resume, or one after the approval expired (APPROVAL_TIMEOUT_MS), is a 409 saying so. New input on
  an interrupted thread is a 409 unless \`multitask_strategy\` is \`enqueue\` (it runs after the decision).
- Not supported (422): time travel (checkpoints), \`command.update\` / \`command.goto\`, interrupt_before/after,
  delayed runs, webhooks, TTLs on threads.`;

function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const s = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  delete s.$schema;
  return s;
}

function parameters(o: Operation): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [...o.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
    name: m[1],
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }));
  if (o.query) {
    const s = jsonSchema(o.query) as { properties?: Record<string, unknown>; required?: string[] };
    for (const [name, schema] of Object.entries(s.properties ?? {})) {
      out.push({ name, in: 'query', required: s.required?.includes(name) ?? false, schema });
    }
  }
  return out;
}

export function openApiDocument(ops: Operation[], prefix: string, version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const o of ops) {
    const responses: Record<string, unknown> = {};
    for (const [status, description] of Object.entries(o.responses)) {
      const ok = status.startsWith('2') && status !== '204';
      responses[status] = ok
        ? {
            description,
            content: o.sse
              ? { 'text/event-stream': { schema: { type: 'string' } } }
              : { 'application/json': { schema: {} } },
          }
        : { description };
    }
    if (!o.public) {
      responses['401'] = { description: 'Missing or invalid x-api-key' };
      responses['429'] = { description: 'Rate limit of this key exceeded; see Retry-After' };
    }
    paths[o.path] ??= {};
    paths[o.path]![o.method.toLowerCase()] = {
      tags: [o.tag],
      summary: o.summary,
      operationId: `${o.method.toLowerCase()}${o.path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+/g, '_')}`,
      parameters: parameters(o),
      ...(o.body
        ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(o.body) } } } }
        : {}),
      responses,
      ...(o.public ? { security: [] } : {}),
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'chat-gateway agent API', version, description: DESCRIPTION },
    servers: [{ url: prefix }],
    security: [{ apiKey: [] }],
    components: { securitySchemes: { apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' } } },
    tags: [...new Set(ops.map((o) => o.tag))].map((name) => ({ name })),
    paths,
  };
}
