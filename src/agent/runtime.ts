/**
 * Builds the agent and runs one turn with the Agents SDK. Model selection:
 * - OPENAI_API_KEY set (and OFFLINE_MODEL not forced): OpenAI, or any OpenAI-compatible server via OPENAI_BASE_URL,
 *   using the Responses or Chat Completions API (OPENAI_API);
 * - otherwise the offline deterministic model (announced at start-up).
 * Provider errors are retried with back-off; the caller turns a final failure into a short apology.
 */
import { Agent, OpenAIProvider, Runner, type AgentInputItem, type Tool } from '@openai/agents';
import pRetry from 'p-retry';
import type { Logger } from 'pino';
import type { Config } from '../config/env.js';
import { OfflineModel } from './offline-model.js';
import { baseTools } from './tools.js';
import type { OfflineTurn, TurnContext } from '../core/module.js';
import type { TurnSession } from './session.js';
import { safeErr } from '../observability/logger.js';

export interface TurnOutput {
  text: string;
  inputTokens: number;
  outputTokens: number;
  model: string;
}

export interface AgentRuntime {
  readonly modelName: string;
  readonly offline: boolean;
  run(input: AgentInputItem[], session: TurnSession, context: TurnContext, signal?: AbortSignal): Promise<TurnOutput>;
}

/** `offlineTurns`: the modules' scripted answers, used by the offline model only (no API key). */
export function createAgentRuntime(
  config: Config, log: Logger, extraTools: Tool<TurnContext>[] = [], offlineTurns: OfflineTurn[] = [],
): AgentRuntime {
  const offline = config.offlineModel;
  const runner = new Runner({
    tracingDisabled: true,
    modelProvider: offline
      ? { getModel: () => new OfflineModel(offlineTurns) }
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
          const result = await runner.run(agent, input, {
            session,
            context,
            maxTurns: 8,
            signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
          });
          if (attempt > 1) log.info({ attempt }, 'model call succeeded after retry');
          const usage = result.state.usage;
          return {
            text: typeof result.finalOutput === 'string' ? result.finalOutput : JSON.stringify(result.finalOutput ?? ''),
            inputTokens: usage.inputTokens,
            outputTokens: usage.outputTokens,
            model: modelName,
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
