/**
 * Builds the agent and runs one turn with the Agents SDK. Model selection:
 * - OPENAI_API_KEY set (and OFFLINE_MODEL not forced): OpenAI, or any OpenAI-compatible server via OPENAI_BASE_URL,
 *   using the Responses or Chat Completions API (OPENAI_API);
 * - otherwise the offline deterministic model (announced at start-up).
 * Provider errors are retried with back-off; the caller turns a final failure into a short apology.
 */
import { Agent, OpenAIProvider, Runner, type AgentInputItem, type RunItem, type Tool } from '@openai/agents';
import pRetry from 'p-retry';
import type { Logger } from 'pino';
import type { Config } from '../config/env.js';
import { OfflineModel } from './offline-model.js';
import { baseTools } from './tools.js';
import type { TurnContext } from '../core/module.js';
import type { TurnSession } from './session.js';
import { safeErr } from '../observability/logger.js';

export interface TurnOutput {
  text: string;
  inputTokens: number;
  outputTokens: number;
  model: string;
  /** Per item of `session.pending`: the agent that produced it (null for the turn's input). */
  itemAgents?: (string | null)[];
}

/** The agent for one turn, when agents come from configuration (src/agents): replaces the single default agent. */
export interface AgentChoice {
  agent: Agent<TurnContext>;
  modelName: string;
  maxTurns: number;
}
export type AgentPicker = (context: TurnContext) => Promise<AgentChoice>;

/** Said when a tool that needs a person's approval was called: approvals are not asked for in chat yet. */
export const APPROVAL_NOTE = 'That needs an approval before I can do it, and I cannot ask for one here yet.';

export interface AgentRuntime {
  readonly modelName: string;
  readonly offline: boolean;
  run(input: AgentInputItem[], session: TurnSession, context: TurnContext, signal?: AbortSignal): Promise<TurnOutput>;
}

export function createAgentRuntime(
  config: Config, log: Logger, extraTools: Tool<TurnContext>[] = [], pick?: AgentPicker,
): AgentRuntime {
  const offline = config.offlineModel;
  const runner = new Runner({
    tracingDisabled: true,
    modelProvider: offline
      ? { getModel: () => new OfflineModel() }
      : new OpenAIProvider({
          apiKey: config.OPENAI_API_KEY,
          baseURL: config.OPENAI_BASE_URL,
          useResponses: config.OPENAI_API === 'responses',
        }),
  });
  const modelName = offline ? 'offline' : config.AGENT_MODEL;
  const agent = new Agent<TurnContext>({
    name: config.AGENT_NAME,
    // Per-turn additions (recalled memories, check-in guidance) come from the modules' hooks.
    instructions: (rc) => [config.AGENT_INSTRUCTIONS, ...(rc.context?.instructions ?? [])].join('\n\n'),
    model: modelName,
    tools: [...(baseTools as Tool<TurnContext>[]), ...extraTools],
  });

  return {
    modelName,
    offline,
    async run(input, session, context, signal) {
      return pRetry(
        async (attempt) => {
          session.pending.length = 0; // a failed attempt's partial items must not be committed
          const timeout = AbortSignal.timeout(config.MODEL_TIMEOUT_MS);
          // Never throws for an unreachable MCP server: its tools are left out (src/agents/mcp/pool.ts).
          const choice = pick ? await pick(context) : { agent, modelName, maxTurns: 8 };
          const result = await runner.run(choice.agent, input, {
            session,
            context,
            maxTurns: choice.maxTurns,
            signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
          });
          if (attempt > 1) log.info({ attempt }, 'model call succeeded after retry');
          const usage = result.state.usage;
          const paused = result.interruptions?.length > 0;
          // A run stopped for an approval leaves a tool call without its result, which providers refuse in a
          // later turn's history: keep the input and the note instead.
          if (paused) session.pending.splice(0, session.pending.length, ...input, noteItem(APPROVAL_NOTE));
          const out = result.finalOutput;
          return {
            text: paused ? APPROVAL_NOTE : typeof out === 'string' ? out : JSON.stringify(out ?? ''),
            inputTokens: usage.inputTokens,
            outputTokens: usage.outputTokens,
            model: choice.modelName,
            itemAgents: paused
              ? [...input.map(() => null), choice.agent.name]
              : itemAgents(session.pending.length, result.newItems, choice.agent.name),
          };
        },
        {
          retries: config.MODEL_RETRIES,
          minTimeout: offline ? 50 : 1_000,
          maxTimeout: 15_000,
          onFailedAttempt: ({ error, attemptNumber }) =>
            log.warn({ attempt: attemptNumber, err: safeErr(error) }, 'model call failed'),
          shouldRetry: () => !signal?.aborted,
        },
      );
    },
  };
}

/**
 * Which agent produced each pending item: the runner saves the turn's input first, then one item per new run
 * item, in order (handoffs change the agent mid-turn). Should the counts ever differ, the agent that started the
 * turn is named for every generated item.
 */
function itemAgents(pending: number, newItems: RunItem[], first: string): (string | null)[] {
  const inputs = pending - newItems.length;
  if (inputs < 0) return Array.from({ length: pending }, () => first);
  const byAgent = newItems.map((it) => ('agent' in it ? it.agent.name : it.sourceAgent.name));
  return [...Array.from({ length: inputs }, () => null), ...byAgent];
}

function noteItem(text: string): AgentInputItem {
  return { type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text }] };
}
