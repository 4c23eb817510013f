/**
 * Assistants (and the Agent Protocol's agents): the gateway runs one agent, graph "agent", with the configured
 * name and instructions. Listed and fetched here; creating or editing assistants is not offered.
 */
import { z } from 'zod';
import type { ApiContext } from './context.js';
import { notFound, op, type Call, type Operation } from './http.js';
import { ASSISTANT_ID, GRAPH_ID, isOurAssistant } from './ids.js';

const STARTED = new Date().toISOString();

const messagesSchema = {
  type: 'object',
  properties: {
    messages: {
      type: 'array',
      items: {
        type: 'object',
        properties: { type: { type: 'string', enum: ['human', 'ai', 'tool'] }, role: { type: 'string' }, content: { type: ['string', 'array'] } },
        required: ['content'],
      },
    },
  },
  required: ['messages'],
};
const configSchema = {
  type: 'object',
  properties: {
    configurable: {
      type: 'object',
      properties: { user_id: { type: 'string', description: 'who is speaking (memory and rate limits are kept per API key and user)' }, user_name: { type: 'string' } },
    },
  },
};

const searchBody = z.object({
  graph_id: z.string().nullish(),
  name: z.string().nullish(),
  metadata: z.record(z.string(), z.unknown()).nullish(),
  limit: z.number().int().min(1).max(1000).default(10),
  offset: z.number().int().min(0).default(0),
  sort_by: z.string().nullish(),
  sort_order: z.string().nullish(),
  select: z.array(z.string()).nullish(),
});

export function assistantOperations(ctx: ApiContext): Operation[] {
  const assistant = {
    assistant_id: ASSISTANT_ID,
    graph_id: GRAPH_ID,
    config: {},
    context: {},
    metadata: { created_by: 'system' },
    version: 1,
    name: ctx.config.AGENT_NAME,
    description: 'The gateway\'s agent: the same one that answers on Slack, Discord, Telegram and the local channel.',
    created_at: STARTED,
    updated_at: STARTED,
  };
  const agent = {
    agent_id: ASSISTANT_ID, name: ctx.config.AGENT_NAME, description: assistant.description, metadata: assistant.metadata,
    capabilities: { 'ap.io.messages': true, 'ap.io.streaming': true },
  };
  const schemas = {
    graph_id: GRAPH_ID, input_schema: messagesSchema, output_schema: messagesSchema, state_schema: messagesSchema,
    config_schema: configSchema, context_schema: null,
  };
  const matches = (b: z.infer<typeof searchBody>) =>
    (!b.graph_id || b.graph_id === GRAPH_ID) && (!b.name || ctx.config.AGENT_NAME.toLowerCase().includes(b.name.toLowerCase()))
    && Object.entries(b.metadata ?? {}).every(([k, v]) => (assistant.metadata as Record<string, unknown>)[k] === v);
  const found = (c: Call, param: string) => {
    if (!isOurAssistant(c.params[param])) throw notFound(`assistant ${c.params[param]}`);
  };
  const list = (c: Call) => {
    const b = c.body as z.infer<typeof searchBody>;
    return matches(b) && b.offset === 0 ? [assistant] : [];
  };

  return [
    op({ method: 'POST', path: '/assistants/search', tag: 'Assistants', summary: 'List assistants (the gateway has one)', body: searchBody, responses: { 200: 'Assistants' }, handler: async (c) => list(c) }),
    op({ method: 'POST', path: '/assistants/count', tag: 'Assistants', summary: 'Count assistants', body: searchBody.pick({ graph_id: true, name: true, metadata: true }), responses: { 200: 'A number' }, handler: async (c) => (matches({ ...c.body, limit: 1, offset: 0 }) ? 1 : 0) }),
    op({ method: 'GET', path: '/assistants/{assistant_id}', tag: 'Assistants', summary: 'Get the assistant (by id or graph id "agent")', responses: { 200: 'The assistant', 404: 'Not found' }, handler: async (c) => (found(c, 'assistant_id'), assistant) }),
    op({ method: 'GET', path: '/assistants/{assistant_id}/schemas', tag: 'Assistants', summary: 'Input, output, state and config schemas', responses: { 200: 'GraphSchema', 404: 'Not found' }, handler: async (c) => (found(c, 'assistant_id'), schemas) }),
    op({
      method: 'GET', path: '/assistants/{assistant_id}/graph', tag: 'Assistants', summary: 'The (one-node) graph', query: z.object({ xray: z.unknown().optional() }),
      responses: { 200: 'Nodes and edges', 404: 'Not found' },
      handler: async (c) => {
        found(c, 'assistant_id');
        return {
          nodes: [{ id: '__start__', type: 'schema', data: '__start__' }, { id: 'agent', type: 'runnable', data: { name: ctx.config.AGENT_NAME } }, { id: '__end__', type: 'schema', data: '__end__' }],
          edges: [{ source: '__start__', target: 'agent' }, { source: 'agent', target: '__end__' }],
        };
      },
    }),
    op({ method: 'POST', path: '/agents/search', tag: 'Agents', summary: 'Agent Protocol: list agents', body: searchBody, responses: { 200: 'Agents' }, handler: async (c) => (list(c).length ? [agent] : []) }),
    op({ method: 'GET', path: '/agents/{agent_id}', tag: 'Agents', summary: 'Agent Protocol: get the agent', responses: { 200: 'The agent', 404: 'Not found' }, handler: async (c) => (found(c, 'agent_id'), agent) }),
    op({
      method: 'GET', path: '/agents/{agent_id}/schemas', tag: 'Agents', summary: 'Agent Protocol: the agent\'s schemas', responses: { 200: 'AgentSchemas', 404: 'Not found' },
      handler: async (c) => (found(c, 'agent_id'), { agent_id: ASSISTANT_ID, input_schema: messagesSchema, output_schema: messagesSchema, state_schema: messagesSchema, config_schema: configSchema }),
    }),
  ];
}
