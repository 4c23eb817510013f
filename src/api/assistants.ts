/**
 * Assistants (and the Agent Protocol's agents): graph "agent" (its well-known assistant id) is the routed agent,
 * as on every channel; with an agents file (src/agents) each configured agent is an assistant too, its
 * `assistant_id` being its name. Listed and fetched here; creating or editing assistants is not offered.
 */
import { z } from 'zod';
import type { AgentConfig } from '../agents/config.js';
import type { ApiContext } from './context.js';
import { notFound, op, type Call, type Operation } from './http.js';
import { ASSISTANT_ID, GRAPH_ID, configuredAgent, isOurAssistant } from './ids.js';

const STARTED = new Date().toISOString();

const messagesSchema = {
  type: 'object',
  properties: {
    messages: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          type: { type: 'string', enum: ['human', 'ai', 'tool'] },
          role: { type: 'string' },
          content: { type: ['string', 'array'] },
        },
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
      properties: {
        user_id: {
          type: 'string',
          description: 'who is speaking (memory and rate limits are kept per API key and user)',
        },
        user_name: { type: 'string' },
      },
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

function namedAssistant(a: AgentConfig) {
  return {
    assistant_id: a.name,
    graph_id: GRAPH_ID,
    config: {},
    context: {},
    metadata: { created_by: 'system', agent: a.name },
    version: 1,
    name: a.name,
    description: a.description ?? null,
    created_at: STARTED,
    updated_at: STARTED,
  };
}

export function assistantOperations(ctx: ApiContext): Operation[] {
  const assistant = {
    assistant_id: ASSISTANT_ID,
    graph_id: GRAPH_ID,
    config: {},
    context: {},
    metadata: { created_by: 'system' },
    version: 1,
    name: ctx.config.AGENT_NAME,
    description: "The gateway's agent: the same one that answers on Slack, Discord, Telegram and the local channel.",
    created_at: STARTED,
    updated_at: STARTED,
  };
  const agent = {
    agent_id: ASSISTANT_ID,
    name: ctx.config.AGENT_NAME,
    description: assistant.description,
    metadata: assistant.metadata,
    capabilities: { 'ap.io.messages': true, 'ap.io.streaming': true },
  };
  const schemas = {
    graph_id: GRAPH_ID,
    input_schema: messagesSchema,
    output_schema: messagesSchema,
    state_schema: messagesSchema,
    config_schema: configSchema,
    context_schema: null,
  };
  const all = () => {
    const fromFile = ctx.agents && ctx.agents.current.source !== 'environment';
    const named = fromFile ? ctx.agents!.current.agents.map(namedAssistant) : [];
    return [assistant, ...named];
  };
  const matches = (b: Pick<z.infer<typeof searchBody>, 'graph_id' | 'name' | 'metadata'>) =>
    all().filter(
      (a) =>
        (!b.graph_id || b.graph_id === GRAPH_ID) &&
        (!b.name || a.name.toLowerCase().includes(b.name.toLowerCase())) &&
        Object.entries(b.metadata ?? {}).every(([k, v]) => (a.metadata as Record<string, unknown>)[k] === v),
    );
  /** The assistant an id names: the routed one (well-known id or graph id) or a configured agent. */
  const found = (c: Call, param: string) => {
    const id = c.params[param];
    if (isOurAssistant(id)) return assistant;
    const name = configuredAgent(ctx, id);
    if (!name) throw notFound(`assistant ${id}`);
    return namedAssistant(ctx.agents!.agent(name)!);
  };
  const list = (c: Call) => {
    const b = c.body as z.infer<typeof searchBody>;
    return matches(b).slice(b.offset, b.offset + b.limit);
  };
  const asAgent = (a: ReturnType<typeof all>[number]) => ({
    agent_id: a.assistant_id,
    name: a.name,
    description: a.description,
    metadata: a.metadata,
    capabilities: agent.capabilities,
  });

  return [
    op({
      method: 'POST',
      path: '/assistants/search',
      tag: 'Assistants',
      summary: 'List assistants (the routed agent and the configured agents)',
      body: searchBody,
      responses: { 200: 'Assistants' },
      handler: async (c) => list(c),
    }),
    op({
      method: 'POST',
      path: '/assistants/count',
      tag: 'Assistants',
      summary: 'Count assistants',
      body: searchBody.pick({ graph_id: true, name: true, metadata: true }),
      responses: { 200: 'A number' },
      handler: async (c) => matches(c.body).length,
    }),
    op({
      method: 'GET',
      path: '/assistants/{assistant_id}',
      tag: 'Assistants',
      summary: 'Get the assistant (by id or graph id "agent")',
      responses: { 200: 'The assistant', 404: 'Not found' },
      handler: async (c) => found(c, 'assistant_id'),
    }),
    op({
      method: 'GET',
      path: '/assistants/{assistant_id}/schemas',
      tag: 'Assistants',
      summary: 'Input, output, state and config schemas',
      responses: { 200: 'GraphSchema', 404: 'Not found' },
      handler: async (c) => (found(c, 'assistant_id'), schemas),
    }),
    op({
      method: 'GET',
      path: '/assistants/{assistant_id}/graph',
      tag: 'Assistants',
      summary: 'The (one-node) graph',
      query: z.object({ xray: z.unknown().optional() }),
      responses: { 200: 'Nodes and edges', 404: 'Not found' },
      handler: async (c) => {
        const a = found(c, 'assistant_id');
        return {
          nodes: [
            { id: '__start__', type: 'schema', data: '__start__' },
            { id: 'agent', type: 'runnable', data: { name: a.name } },
            { id: '__end__', type: 'schema', data: '__end__' },
          ],
          edges: [
            { source: '__start__', target: 'agent' },
            { source: 'agent', target: '__end__' },
          ],
        };
      },
    }),
    op({
      method: 'POST',
      path: '/agents/search',
      tag: 'Agents',
      summary: 'Agent Protocol: list agents',
      body: searchBody,
      responses: { 200: 'Agents' },
      handler: async (c) => list(c).map((a) => (a === assistant ? agent : asAgent(a))),
    }),
    op({
      method: 'GET',
      path: '/agents/{agent_id}',
      tag: 'Agents',
      summary: 'Agent Protocol: get the agent',
      responses: { 200: 'The agent', 404: 'Not found' },
      handler: async (c) => {
        const a = found(c, 'agent_id');
        return a === assistant ? agent : asAgent(a);
      },
    }),
    op({
      method: 'GET',
      path: '/agents/{agent_id}/schemas',
      tag: 'Agents',
      summary: "Agent Protocol: the agent's schemas",
      responses: { 200: 'AgentSchemas', 404: 'Not found' },
      handler: async (c) => ({
        agent_id: found(c, 'agent_id').assistant_id,
        input_schema: messagesSchema,
        output_schema: messagesSchema,
        state_schema: messagesSchema,
        config_schema: configSchema,
      }),
    }),
  ];
}
