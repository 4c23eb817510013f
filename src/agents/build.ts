/**
 * Turns the configuration into Agents SDK agents for a turn: the chosen agent and every agent it can hand off to
 * (the SDK's handoffs), each with its own model and provider, built-in tools and MCP tools. Built once per worker
 * per configuration version and kept (agents are stateless, so concurrent turns share them); rebuilt when a reload
 * replaces the configuration or when the MCP tools on offer change (a server went away or came back), so either
 * takes effect on the next turn.
 */
import { Agent, type OpenAIProvider, type Model, type Tool } from '@openai/agents';
import type { Logger } from 'pino';
import type { AgentChoice, AgentPicker } from '../agent/runtime.js';
import { OfflineModel } from '../agent/offline-model.js';
import { createOpenAIProvider } from '../agent/provider.js';
import { isOptIn } from '../agent/tools.js';
import type { OfflineTurn } from '../core/module.js';
import type { Config } from '../config/env.js';
import type { TurnContext } from '../core/module.js';
import type { AgentCatalog } from './catalog.js';
import type { AgentConfig, AgentsConfig } from './config.js';
import type { McpPool, McpToolset } from './mcp/pool.js';
import { routedAgent } from './routing.js';

/** The memory module's tools (src/memory/tools.ts): left out for an agent with `memory: false`. */
export const MEMORY_TOOLS = new Set(['remember', 'recall', 'forget']);

export function unavailableNote(servers: string[]): string {
  const names = servers.map((s) => `"${s}"`).join(', ');
  return (
    `The tools of ${names} are unavailable right now (the server cannot be reached). ` +
    'If the user needs them, say so plainly; never claim to have used them.'
  );
}

/** The agent and the agents reachable from it by handoffs. */
function reachable(cfg: AgentsConfig, start: string): AgentConfig[] {
  const out: AgentConfig[] = [];
  const todo = [start];
  const seen = new Set<string>();
  while (todo.length) {
    const name = todo.pop()!;
    if (seen.has(name)) continue;
    seen.add(name);
    const a = cfg.agents.find((x) => x.name === name);
    if (!a) continue;
    out.push(a);
    todo.push(...a.handoffs);
  }
  return out;
}

export interface PickerDeps {
  config: Config;
  catalog: AgentCatalog;
  pool: McpPool;
  /** Built-in tools (current_time and the modules' tools), by name. */
  builtins: Tool<TurnContext>[];
  /** The modules' scripted answers for the offline model (no API key). */
  offlineTurns?: OfflineTurn[];
  log: Logger;
  env?: NodeJS.ProcessEnv;
  /** The HTTP client model calls go through (src/core/http-fetch.ts); Node's fetch without it. */
  httpFetch?: typeof fetch;
}

export function createAgentPicker(d: PickerDeps): AgentPicker {
  const env = d.env ?? process.env;
  const providers = new Map<string, OpenAIProvider>();

  /** The agent's model: offline unless a key is there (or the provider is keyless, like a local server). */
  async function modelOf(a: AgentConfig): Promise<{ model: Model; name: string }> {
    const keyEnv = a.provider?.apiKeyEnv;
    const key = keyEnv ? env[keyEnv] : a.provider?.baseUrl ? undefined : d.config.OPENAI_API_KEY;
    const keyless = !!a.provider?.baseUrl && !keyEnv;
    if (d.config.OFFLINE_MODEL || (!key && !keyless))
      return { model: new OfflineModel(d.offlineTurns), name: 'offline' };
    const baseURL = a.provider?.baseUrl ?? d.config.OPENAI_BASE_URL;
    const api = a.provider?.api ?? d.config.OPENAI_API;
    const id = JSON.stringify([baseURL, api, keyEnv]);
    let provider = providers.get(id);
    if (!provider) {
      // Keyless OpenAI-compatible servers (Ollama, vLLM) still need a non-empty key in the client.
      provider = createOpenAIProvider({ apiKey: key ?? 'unused', baseURL, api, fetch: d.httpFetch });
      providers.set(id, provider);
    }
    const name = a.model ?? d.config.AGENT_MODEL;
    return { model: await provider.getModel(name), name };
  }

  function builtinsFor(a: AgentConfig): Tool<TurnContext>[] {
    // Unset `tools` means all built-ins but the opt-in ones (src/agent/tools.ts), which must be named.
    const named = (t: Tool<TurnContext>) => (a.tools ? a.tools.includes(t.name) : !isOptIn(t));
    return d.builtins.filter((t) => named(t) && (a.memory || !MEMORY_TOOLS.has(t.name)));
  }

  async function build(a: AgentConfig, mcp: McpToolset): Promise<{ agent: Agent<TurnContext>; modelName: string }> {
    const { model, name } = await modelOf(a);
    const notes = mcp.unavailable.length ? [unavailableNote(mcp.unavailable)] : [];
    const agent = new Agent<TurnContext>({
      name: a.name,
      handoffDescription: a.description,
      instructions: (rc) => [a.instructions, ...notes, ...(rc.context?.instructions ?? [])].join('\n\n'),
      model,
      modelSettings: a.temperature === undefined ? {} : { temperature: a.temperature },
      tools: [...builtinsFor(a), ...(mcp.tools as Tool<TurnContext>[])],
    });
    return { agent, modelName: name };
  }

  /** The agents of one group (an agent and those it hands off to), wired together. */
  async function buildGroup(configs: AgentConfig[], mcp: McpToolset[]): Promise<AgentChoice> {
    const built = new Map<string, { agent: Agent<TurnContext>; modelName: string }>();
    await Promise.all(configs.map(async (a, i) => built.set(a.name, await build(a, mcp[i]!))));
    for (const a of configs) built.get(a.name)!.agent.handoffs = a.handoffs.map((h) => built.get(h)!.agent);
    const first = built.get(configs[0]!.name)!;
    return { agent: first.agent, modelName: first.modelName, maxTurns: configs[0]!.maxTurns };
  }

  // Per configuration object (a reload makes a new one, and the old cache goes with it), per starting agent.
  const cache = new WeakMap<AgentsConfig, Map<string, { offered: string; choice: AgentChoice }>>();

  return async (ctx) => {
    const cfg = d.catalog.current;
    const name = ctx.agent?.name ?? routedAgent(cfg, ctx.ref);
    const configs = reachable(cfg, name);
    if (!configs.length) throw new Error(`agent ${name} is not configured`);
    // Listed every turn: how the pool notices a dead or revived server. Only a change in what is offered rebuilds.
    const mcp = await Promise.all(configs.map((a) => d.pool.toolsFor(a)));
    const offered = JSON.stringify(mcp.map((m) => [m.tools.map((t) => t.name), m.unavailable]));
    let groups = cache.get(cfg);
    if (!groups) cache.set(cfg, (groups = new Map()));
    const kept = groups.get(name);
    if (kept && kept.offered === offered) return kept.choice;
    const choice = await buildGroup(configs, mcp);
    groups.set(name, { offered, choice });
    return choice;
  };
}
