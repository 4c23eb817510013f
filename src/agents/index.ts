/**
 * The agents module: agents as configuration (an agents file, or the AGENT_* variables), routing rules, an
 * admin's per-conversation choice (`/agent`), per-agent daily budgets, reload without a restart, and MCP tools.
 *
 * - Turn hook (runs right after access control): picks the conversation's agent and puts it on the turn context;
 *   refuses the turn when the person spent the agent's daily token budget (both read with the turn's one read);
 *   counts the turn's tokens in the turn's own commit.
 * - `agentPickerFor` gives the worker's runtime the per-turn agent builder (src/agents/build.ts).
 * - Reload: the file is watched; `/agent reload` reloads here and tells every other process over Redis pub/sub.
 */
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import type { AgentPicker } from '../agent/runtime.js';
import { defineCommand } from '../commands/registry.js';
import { defineModule, type GatewayModule, type ModuleDeps } from '../modules/contract.js';
import { conversationKey } from '../core/types.js';
import { utcDay } from '../access/store.js';
import { createAgentPicker } from './build.js';
import { AgentCatalog } from './catalog.js';
import { agentsFromEnv, parseAgentsFile, type AgentsConfig } from './config.js';
import { McpPool } from './mcp/pool.js';
import { pickAgent, routedAgent } from './routing.js';
import {
  addAgentTokensSql,
  agentTokensOn,
  agentTurnRead,
  chooseAgent,
  chosenAgent,
  clearChosenAgent,
  type AgentTurnData,
} from './store.js';
import type { Tool } from '@openai/agents';
import type { OfflineTurn, TurnContext } from '../core/module.js';

export { gateMemoryByAgent, withAgentMemoryGate } from './memory-gate.js';

/** What the agents module hands the rest of the app (the runtime's per-turn agent, the API's assistants). */
export interface AgentsService {
  catalog: AgentCatalog;
  /**
   * The per-turn agent builder for a worker, with the built-in and module tools agents may name; undefined when
   * the single agent of the environment answers (the runtime's own agent, built once).
   */
  picker(builtins: Tool<TurnContext>[], offlineTurns?: OfflineTurn[]): AgentPicker | undefined;
}

declare module '../modules/contract.js' {
  interface Services {
    agents: AgentsService;
  }
}

export const agentsModule = defineModule({
  name: 'agents',
  provides: ['agents'],
  create: (deps) => createAgentsModule(deps),
});

export function budgetSpentText(agent: string, budget: number): string {
  const tokens = budget.toLocaleString('en-US');
  return `You've used today's token budget for ${agent} (${tokens} tokens). It resets at 00:00 UTC.`;
}

/** Read at start-up: a bad file stops the start with the reason (a reload later keeps the old one instead). */
function initialConfig(deps: ModuleDeps): AgentsConfig {
  const path = deps.config.AGENTS_FILE;
  if (!path) return agentsFromEnv(deps.config);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`${path}: cannot read the agents file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return parseAgentsFile(text, path);
}

function describe(cfg: AgentsConfig, chosen: string | null, routed: string): string {
  const kept = chosen && cfg.agents.some((a) => a.name === chosen);
  const current = kept
    ? `**${chosen}** (chosen with \`/agent use\`)`
    : `**${routed}** (${routed === cfg.default ? 'the default' : 'by the routing rules'})`;
  const list = cfg.agents.map((a) => `- ${a.name}${a.description ? `: ${a.description}` : ''}`).join('\n');
  return `This conversation's agent: ${current}.\nAgents:\n${list}`;
}

export function createAgentsModule(deps: ModuleDeps): GatewayModule {
  const log = deps.log.child({ module: 'agents' });
  const db = deps.database.db;
  const catalog = new AgentCatalog(initialConfig(deps), log, deps.config.AGENTS_FILE);
  let pool: McpPool | undefined;
  const reloadChannel = `${deps.config.KEY_PREFIX}:agents:reload`;
  let subscriber: Redis | undefined;
  let started = 0;

  async function start(): Promise<() => Promise<void>> {
    // `all` runs both roles in one process: one watch and one subscription serve it.
    if (started++ === 0) {
      catalog.watch();
      if (deps.config.AGENTS_FILE) {
        subscriber = deps.connect();
        subscriber.on('message', () => void catalog.reload());
        await subscriber.subscribe(reloadChannel);
      }
    }
    return async () => {
      if (--started > 0) return;
      catalog.close();
      subscriber?.disconnect();
      await pool?.close();
    };
  }

  const agentCommand = defineCommand<string>({
    name: 'agent',
    description: "Show this conversation's agent, switch it, or reload the agents file",
    usage: '[use <name> | reset | reload]',
    role: 'admin',
    async run(inv, args, caller) {
      const key = conversationKey(inv.conversation);
      const [verb, name] = args.split(/\s+/).filter(Boolean);
      const cfg = catalog.current;
      const answer = (text: string) => ({ text, ephemeral: true });
      if (!verb) return answer(describe(cfg, await chosenAgent(db, key), routedAgent(cfg, inv.conversation)));
      if (verb === 'use' && name) {
        const names = cfg.agents.map((a) => a.name).join(', ');
        if (!catalog.agent(name)) return answer(`No agent called ${name}. Agents: ${names}.`);
        await chooseAgent(db, key, name, caller.principal);
        return answer(`This conversation now talks to **${name}**.`);
      }
      if (verb === 'reset') {
        await clearChosenAgent(db, key);
        return answer(`Back to the routing rules: **${routedAgent(cfg, inv.conversation)}**.`);
      }
      if (verb === 'reload') {
        const r = await catalog.reload();
        if (!r.ok) return answer(`Kept the current agents: ${r.error}`);
        await deps.redis.publish(reloadChannel, '1');
        return answer(`Reloaded: ${r.agents.join(', ')}.`);
      }
      return answer('Usage: `/agent [use <name> | reset | reload]`');
    },
  });

  const service: AgentsService = {
    catalog,
    picker(builtins, offlineTurns) {
      if (!deps.config.AGENTS_FILE) return undefined;
      pool ??= new McpPool(deps.log.child({ module: 'mcp' }));
      return createAgentPicker({
        config: deps.config,
        catalog,
        pool,
        builtins,
        offlineTurns,
        log: deps.log,
        httpFetch: deps.httpFetch,
      });
    },
  };

  return {
    name: 'agents',
    provides: { agents: service },
    commands: [agentCommand],
    hooks: {
      // The choice and today's usage come with the turn's one read; a turn run without it reads them here.
      read: {
        name: 'agents',
        sql: agentTurnRead,
        params: ({ conversationKey, events, now }) => ({
          key: conversationKey,
          userKeys: [...new Set(events.map((e) => `${e.platform}:${e.tenant}:${e.sender.id}`))],
          day: utcDay(now),
        }),
      },
      async beforeRun(ctx) {
        const cfg = catalog.current;
        const pre = ctx.reads?.agents as AgentTurnData | undefined;
        const chosen = pre ? pre.chosen : await chosenAgent(db, ctx.conversationKey);
        const name = pickAgent(cfg, ctx.ref, chosen);
        const agent = catalog.agent(name)!;
        ctx.agent = { name, memory: agent.memory, ...(agent.images !== undefined ? { images: agent.images } : {}) };
        if (agent.dailyTokenBudget > 0) {
          const day = utcDay(ctx.now);
          const row = pre?.usage.find(([a, u]) => a === name && u === ctx.userKey);
          const used = pre ? Number(row?.[2] ?? 0) : await agentTokensOn(db, name, ctx.userKey, day);
          if (used >= agent.dailyTokenBudget) {
            return { action: 'reply', text: budgetSpentText(name, agent.dailyTokenBudget), outcome: 'agent_budget' };
          }
        }
      },
      // Counted in the turn's own commit: a retried turn never counts twice.
      commitWrites(ctx, outcome) {
        const tokens = outcome.inputTokens + outcome.outputTokens;
        if (!ctx.agent || tokens <= 0) return [];
        return [addAgentTokensSql(ctx.agent.name, ctx.userKey, utcDay(ctx.now), tokens)];
      },
    },
    startWorker: start,
    startGateway: start,
  };
}
