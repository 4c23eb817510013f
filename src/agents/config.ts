/**
 * The agents file: agents and the routing rules that pick one per conversation. YAML (the `yaml` package), checked
 * with zod before anything uses it. Secrets are never inline: a provider key, an MCP header or an MCP server's
 * secret environment is named by the environment variable that holds it.
 *
 * Without AGENTS_FILE the AGENT_* / OPENAI_* variables describe one default agent, exactly as before.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import type { Config } from '../config/env.js';
import { PLATFORMS } from '../core/types.js';

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name');
const agentName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'letters, digits, - and _ (at most 64)');

const NO_INLINE_SECRET = 'secrets are not written in the agents file: name the environment variable that holds it';

export const providerSchema = z.strictObject({
  baseUrl: z.string().url().optional(),
  /** chat = Chat Completions (most OpenAI-compatible servers), responses = the Responses API. */
  api: z.enum(['chat', 'chat_completions', 'responses']).optional(),
  /** The NAME of the environment variable with the API key. */
  apiKeyEnv: envName.optional(),
  apiKey: z.never({ error: NO_INLINE_SECRET }).optional(),
});

const toolLists = {
  /** Only these tools of the server are offered (default: all). */
  allow: z.array(z.string().min(1)).optional(),
  /** Never offered, even when allowed. */
  deny: z.array(z.string().min(1)).default([]),
  /** Tools that need a person's approval before they run (recorded; never run without one). */
  needsApproval: z.array(z.string().min(1)).default([]),
  /** Connect, list and call timeout. */
  timeoutMs: z.number().int().min(100).max(600_000).default(10_000),
};

export const mcpServerSchema = z.discriminatedUnion('transport', [
  z.strictObject({
    name: agentName,
    transport: z.literal('stdio'),
    command: z.string().min(1),
    args: z.array(z.string()).default([]),
    /** Plain (non-secret) environment for the server process. */
    env: z.record(envName, z.string()).default({}),
    /** Environment taken from ours: server variable -> the name of our variable holding the value. */
    envFrom: z.record(envName, envName).default({}),
    cwd: z.string().optional(),
    ...toolLists,
  }),
  z.strictObject({
    name: agentName,
    transport: z.literal('http'),
    url: z.string().url(),
    /** Request headers: header name -> the name of the environment variable holding its value. */
    headersFromEnv: z.record(z.string().min(1), envName).default({}),
    headers: z.never({ error: NO_INLINE_SECRET }).optional(),
    ...toolLists,
  }),
]);
export type McpServerConfig = z.infer<typeof mcpServerSchema>;

export const agentSchema = z.strictObject({
  name: agentName,
  description: z.string().max(500).optional(),
  instructions: z.string().min(1),
  model: z.string().min(1).optional(),
  provider: providerSchema.optional(),
  temperature: z.number().min(0).max(2).optional(),
  maxTurns: z.number().int().min(1).max(50).default(8),
  /** Built-in tools by name (current_time, remember, set_reminder, ...). Unset: all of them. */
  tools: z.array(z.string().min(1)).optional(),
  mcpServers: z.array(mcpServerSchema).default([]),
  /** Agents this one may hand the conversation to (the Agents SDK's handoffs). */
  handoffs: z.array(agentName).default([]),
  /** Long-term memory tools. */
  memory: z.boolean().default(true),
  /** Whether the model takes image input (pictures sent in chat reach it as images). Unset: MODEL_ACCEPTS_IMAGES. */
  images: z.boolean().optional(),
  /** Tokens a person may use with this agent per UTC day (0: no limit beyond USER_DAILY_TOKEN_BUDGET). */
  dailyTokenBudget: z.number().int().min(0).default(0),
});
export type AgentConfig = z.infer<typeof agentSchema>;

/** Every field that is set must match; the first rule that matches wins. */
export const routeSchema = z.strictObject({
  agent: agentName,
  platform: z.enum(PLATFORMS).optional(),
  /** Slack workspace, Discord guild, Telegram bot id, `default` for the local channel. */
  tenant: z.string().min(1).optional(),
  channel: z.string().min(1).optional(),
  kind: z.enum(['dm', 'group']).optional(),
  /** true: only in threads; false: never in threads; a string: that thread. */
  thread: z.union([z.boolean(), z.string().min(1)]).optional(),
});
export type Route = z.infer<typeof routeSchema>;

export const agentsFileSchema = z
  .strictObject({
    agents: z.array(agentSchema).min(1),
    routes: z.array(routeSchema).default([]),
    /** The agent for conversations no rule matches (default: the first agent). */
    default: agentName.optional(),
  })
  .superRefine((f, ctx) => {
    const names = new Set<string>();
    f.agents.forEach((a, i) => {
      const dup = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
      if (names.has(a.name)) dup(['agents', i, 'name'], `duplicate agent ${a.name}`);
      names.add(a.name);
      const servers = new Set<string>();
      a.mcpServers.forEach((s, j) => {
        if (servers.has(s.name)) dup(['agents', i, 'mcpServers', j], `duplicate server ${s.name}`);
        servers.add(s.name);
      });
    });
    const known = (n: string, path: (string | number)[]) => {
      if (!names.has(n)) ctx.addIssue({ code: 'custom', path, message: `unknown agent ${n}` });
    };
    f.agents.forEach((a, i) => a.handoffs.forEach((h, j) => known(h, ['agents', i, 'handoffs', j])));
    f.routes.forEach((r, i) => known(r.agent, ['routes', i, 'agent']));
    if (f.default) known(f.default, ['default']);
  });

export interface AgentsConfig {
  agents: AgentConfig[];
  routes: Route[];
  default: string;
  /** Where it came from: the file's path, or "environment". */
  source: string;
}

export class AgentsFileError extends Error {
  override name = 'AgentsFileError';
}

/** The single agent the AGENT_* / OPENAI_* variables describe (no agents file). */
export function agentsFromEnv(config: Config): AgentsConfig {
  const agent = agentSchema.parse({
    name:
      config.AGENT_NAME.replace(/[^A-Za-z0-9_-]+/g, '-')
        .replace(/^-+/, '')
        .slice(0, 64) || 'assistant',
    instructions: config.AGENT_INSTRUCTIONS,
    model: config.AGENT_MODEL,
  });
  return { agents: [agent], routes: [], default: agent.name, source: 'environment' };
}

/**
 * Parse and check an agents file's text. The error says where and what, never the file's content: a YAML error
 * message quotes the offending line, which may hold a secret someone pasted by mistake.
 */
export function parseAgentsFile(text: string, source: string): AgentsConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    const pos = err instanceof YAMLParseError ? err.linePos?.[0] : undefined;
    const code = err instanceof YAMLParseError ? err.code : 'unreadable';
    const where = pos ? ` at line ${pos.line}, column ${pos.col}` : '';
    throw new AgentsFileError(`${source}: not valid YAML (${code}${where})`);
  }
  const parsed = agentsFileSchema.safeParse(raw);
  if (!parsed.success) {
    // Paths and messages only: zod's messages name the expected shape, not the value found.
    const lines = parsed.error.issues.slice(0, 10).map((i) => `  ${i.path.join('.') || '(file)'}: ${i.message}`);
    throw new AgentsFileError(`${source}: invalid agents file\n${lines.join('\n')}`);
  }
  const f = parsed.data;
  return { agents: f.agents, routes: f.routes, default: f.default ?? f.agents[0]!.name, source };
}

export async function readAgentsFile(path: string): Promise<AgentsConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new AgentsFileError(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return parseAgentsFile(text, path);
}
