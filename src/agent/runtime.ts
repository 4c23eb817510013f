/**
 * Builds the agent and runs one turn with the Agents SDK. Model selection:
 * - OPENAI_API_KEY set (and OFFLINE_MODEL not forced): OpenAI, or any OpenAI-compatible server via OPENAI_BASE_URL,
 *   using the Responses or Chat Completions API (OPENAI_API);
 * - otherwise the offline deterministic model (announced at start-up).
 * Provider errors are retried with back-off; the caller turns a final failure into a short apology.
 */
import {
  Agent,
  RunContext,
  Runner,
  RunState,
  type AgentInputItem,
  type RunItem,
  type RunResult,
  StreamedRunResult,
  type Tool,
} from '@openai/agents';
import pRetry from 'p-retry';
import type { Logger } from 'pino';
import type { Config } from '../config/env.js';
import { OfflineModel } from './offline-model.js';
import { createOpenAIProvider } from './provider.js';
import { baseTools, isOptIn } from './tools.js';
import type { OfflineTurn, TurnContext } from '../core/module.js';
import type { TurnSession } from './session.js';
import { safeErr } from '../observability/logger.js';
import { tracingOn } from '../observability/tracing.js';

export interface TurnOutput {
  text: string;
  inputTokens: number;
  outputTokens: number;
  model: string;
  /** Per item of `session.pending`: the agent that produced it (null for the turn's input). */
  itemAgents?: (string | null)[];
  /** The run stopped at a tool that needs a person's approval: resume it with `AgentRuntime.resume`. */
  paused?: PausedRun;
}

export interface PausedRun {
  /** The Agents SDK RunState, serialised (`state.toString()`). */
  state: string;
  /** The tool waiting for the decision, and its arguments as the model wrote them (shown in the prompt). */
  tool: string;
  args: string;
}

/**
 * Where a streamed run's text goes while it runs (live previews). `reset`: a new model response starts after text
 * was already shown (the model spoke, then called a tool): what was shown so far is not part of the answer.
 */
export interface DeltaSink {
  delta(text: string): void;
  reset(): void;
}

export interface RunOptions {
  /** Aborts the run as a failure (shutdown): retried by the caller. */
  signal?: AbortSignal;
  /** Aborts the run as the user's wish (/stop): the text so far is the answer, marked as stopped. */
  stop?: AbortSignal;
  sink?: DeltaSink;
}

/** Appended to an answer cut short by /stop (kept in the session, so the model knows it was interrupted). */
export const STOPPED_MARK = '_(stopped)_';
/** The agent for one turn, when agents come from configuration (src/agents): replaces the single default agent. */
export interface AgentChoice {
  agent: Agent<TurnContext>;
  modelName: string;
  maxTurns: number;
}
export type AgentPicker = (context: TurnContext) => Promise<AgentChoice>;

/** Kept in the session while a run waits for an approval (the tool call itself stays in the stored RunState). */
export const approvalNote = (tool: string) => `(Waiting for approval to run ${tool}.)`;

export interface AgentRuntime {
  readonly modelName: string;
  readonly offline: boolean;
  run(input: AgentInputItem[], session: TurnSession, context: TurnContext, options?: RunOptions): Promise<TurnOutput>;
  /**
   * Resume a run stopped for an approval (`TurnOutput.paused.state`): the waiting tool calls are approved or
   * rejected, and the run goes on from there. `paused` again if it stops at another such tool.
   */
  resume(state: string, approve: boolean, context: TurnContext, options?: RunOptions): Promise<TurnOutput>;
}

/** What the model is told when a person said no. */
export const REJECTED_MESSAGE = 'The user rejected this tool call; it was not run. Do not try it again this turn.';

/**
 * `offlineTurns`: the modules' scripted answers, used by the offline model only (no API key). `pick`: the agent for
 * a turn when agents come from configuration (src/agents); without it the single default agent answers.
 */
export function createAgentRuntime(
  config: Config,
  log: Logger,
  extraTools: Tool<TurnContext>[] = [],
  offlineTurns: OfflineTurn[] = [],
  pick?: AgentPicker,
  httpFetch?: typeof fetch,
): AgentRuntime {
  const offline = config.offlineModel;
  const runner = new Runner({
    // The SDK's spans (agent, model and tool calls) go to OpenTelemetry when tracing is on (the bridge in
    // src/observability), never to OpenAI's trace store; they never carry prompts or answers.
    tracingDisabled: !tracingOn(),
    traceIncludeSensitiveData: false,
    workflowName: 'agent run',
    modelProvider: offline
      ? { getModel: () => new OfflineModel(offlineTurns) }
      : createOpenAIProvider({
          apiKey: config.OPENAI_API_KEY,
          baseURL: config.OPENAI_BASE_URL,
          api: config.OPENAI_API,
          fetch: httpFetch,
        }),
  });
  const modelName = offline ? 'offline' : config.AGENT_MODEL;
  const agent = new Agent<TurnContext>({
    name: config.AGENT_NAME,
    // Per-turn additions (recalled memories, check-in guidance) come from the modules' hooks.
    instructions: (rc) => [config.AGENT_INSTRUCTIONS, ...(rc.context?.instructions ?? [])].join('\n\n'),
    model: modelName,
    tools: [...(baseTools as Tool<TurnContext>[]), ...extraTools.filter((t) => !isOptIn(t))],
  });

  return {
    modelName,
    offline,
    async run(input, session, context, options = {}) {
      return withRetries(options, async () => {
        session.pending.length = 0; // a failed attempt's partial items must not be committed
        // Never throws for an unreachable MCP server: its tools are left out (src/agents/mcp/pool.ts).
        const choice = pick ? await pick(context) : { agent, modelName, maxTurns: 8 };
        const ran = await runModel(choice, input, { session, context, maxTurns: choice.maxTurns }, options);
        if (ran.stopped) return stoppedOutput(ran.shown, session, input, ran.usage);
        const { result } = ran;
        const usage = result.state.usage;
        const paused = pausedRun(result);
        // A run stopped for an approval leaves a tool call without its result, which providers refuse in a
        // later turn's history: the session keeps the input and a note; the call waits in the stored state.
        if (paused) session.pending.splice(0, session.pending.length, ...input, noteItem(approvalNote(paused.tool)));
        const out = paused ? '' : result.finalOutput;
        return {
          text: typeof out === 'string' ? out : JSON.stringify(out ?? ''),
          inputTokens: usage.inputTokens,
          outputTokens: usage.outputTokens,
          model: choice.modelName,
          itemAgents: paused
            ? [...input.map(() => null), choice.agent.name]
            : itemAgents(session.pending.length, result.newItems, choice.agent.name),
          paused,
        };
      });
    },
    async resume(serialised, approve, context, options = {}) {
      return withRetries(options, async () => {
        const choice = pick ? await pick(context) : { agent, modelName, maxTurns: 8 };
        // The stored context is replaced by this turn's (dates and ids as this worker has them).
        const state = await RunState.fromStringWithContext(choice.agent, serialised, new RunContext(context), {
          contextStrategy: 'replace',
        });
        for (const item of state.getInterruptions()) {
          if (approve) state.approve(item);
          else state.reject(item, { message: REJECTED_MESSAGE });
        }
        // No session: the stored state carries the whole conversation the run had; the worker commits the answer.
        const ran = await runModel(choice, state, { context, maxTurns: choice.maxTurns }, options);
        if (ran.stopped) {
          const text = ran.shown.trim() ? `${closeOpenFence(ran.shown)}\n\n${STOPPED_MARK}` : STOPPED_MARK;
          return { text, inputTokens: 0, outputTokens: 0, model: choice.modelName };
        }
        const { result } = ran;
        const paused = pausedRun(result);
        const out = paused ? '' : result.finalOutput;
        return {
          text: typeof out === 'string' ? out : JSON.stringify(out ?? ''),
          inputTokens: result.state.usage.inputTokens,
          outputTokens: result.state.usage.outputTokens,
          model: choice.modelName,
          paused,
        };
      });
    },
  };

  function withRetries(options: RunOptions, attempt: () => Promise<TurnOutput>): Promise<TurnOutput> {
    const { signal, stop, sink } = options;
    return pRetry(
      async (n) => {
        sink?.reset(); // a retried attempt starts its text over
        const out = await attempt();
        if (n > 1) log.info({ attempt: n }, 'model call succeeded after retry');
        return out;
      },
      {
        retries: config.MODEL_RETRIES,
        minTimeout: offline ? 50 : 1_000,
        maxTimeout: 15_000,
        onFailedAttempt: ({ error, attemptNumber }) =>
          log.warn({ attempt: attemptNumber, err: safeErr(error) }, 'model call failed'),
        shouldRetry: () => !signal?.aborted && !stop?.aborted,
      },
    );
  }

  type Ran =
    | { stopped: true; shown: string; usage?: { inputTokens: number; outputTokens: number } }
    | { stopped: false; result: RunResult<TurnContext, any> | StreamedRunResult<TurnContext, any> };

  /**
   * One run: streamed when there is a sink (someone sees the text live), text deltas to it; otherwise one
   * response per model call, which costs the worker about half the CPU of a turn (a provider streams a token or
   * two per event, and every event goes through the SDK's stream machinery). /stop ends either with what was
   * shown; a failure throws.
   */
  async function runModel(
    choice: AgentChoice,
    input: AgentInputItem[] | RunState<TurnContext, any>,
    runOptions: { session?: TurnSession; context: TurnContext; maxTurns: number },
    options: RunOptions,
  ): Promise<Ran> {
    const { signal, stop, sink } = options;
    const run = runSignal(signal, stop);
    let shown = '';
    const started = sink
      ? runner.run(choice.agent, input, { ...runOptions, stream: true, signal: run.signal })
      : runner.run(choice.agent, input, { ...runOptions, signal: run.signal });
    const result = await (started as Promise<RunResult<TurnContext, any> | StreamedRunResult<TurnContext, any>>).catch(
      (err: unknown) => {
        run.done();
        if (stop?.aborted) return null; // stopped before the model said anything
        throw err;
      },
    );
    try {
      if (result instanceof StreamedRunResult) {
        for await (const ev of result) {
          if (ev.type !== 'raw_model_stream_event') continue;
          if (ev.data.type === 'response_started' && shown) {
            shown = '';
            sink?.reset();
          } else if (ev.data.type === 'output_text_delta') {
            shown += ev.data.delta;
            sink?.delta(ev.data.delta);
          }
        }
        await result.completed;
      }
    } catch (err) {
      if (!stop?.aborted) throw err;
    } finally {
      run.done();
    }
    if (stop?.aborted) return { stopped: true, shown, usage: result?.state.usage };
    if (result instanceof StreamedRunResult && result.error) throw result.error;
    if (!result) throw new Error('the model run ended without a result');
    return { stopped: false, result };
  }

  /**
   * The run's signal: the model timeout, shutdown and /stop. One controller whose timer and listeners go when the
   * run ends (`done`); AbortSignal.timeout + AbortSignal.any kept a timer and a composite signal per turn alive for
   * MODEL_TIMEOUT_MS, tied to the worker's long-lived shutdown signal.
   */
  function runSignal(...sources: (AbortSignal | undefined)[]): { signal: AbortSignal; done(): void } {
    const ac = new AbortController();
    const live = sources.filter((s): s is AbortSignal => s !== undefined);
    const onAbort = function (this: AbortSignal) {
      ac.abort(this.reason);
    };
    const timer = setTimeout(
      () => ac.abort(new DOMException('The model call timed out', 'TimeoutError')),
      config.MODEL_TIMEOUT_MS,
    ).unref(); // as AbortSignal.timeout's: it never holds the process up by itself
    const done = () => {
      clearTimeout(timer);
      for (const s of live) s.removeEventListener('abort', onAbort);
    };
    for (const s of live) {
      if (s.aborted) ac.abort(s.reason);
      else s.addEventListener('abort', onAbort, { once: true });
    }
    if (ac.signal.aborted) done();
    return { signal: ac.signal, done };
  }

  /**
   * A run the user stopped: the text shown so far, marked, is the answer. The session keeps the turn's input and
   * that partial answer (never a tool call without its result, which providers reject on the next turn).
   */
  function stoppedOutput(
    shown: string,
    session: TurnSession,
    input: AgentInputItem[],
    usage?: { inputTokens: number; outputTokens: number },
  ): TurnOutput {
    // The shown text stays a prefix of the answer (live clients append the rest), trailing space included.
    const closed = closeOpenFence(shown);
    const text = shown.trim() ? `${closed}${/\n$/.test(closed) ? '\n' : '\n\n'}${STOPPED_MARK}` : STOPPED_MARK;
    const users = session.pending.filter((it) => (it as { role?: string }).role === 'user');
    session.pending.length = 0;
    session.pending.push(...(users.length ? users : input), {
      type: 'message',
      role: 'assistant',
      status: 'completed',
      content: [{ type: 'output_text', text }],
    } as AgentInputItem);
    return { text, inputTokens: usage?.inputTokens ?? 0, outputTokens: usage?.outputTokens ?? 0, model: modelName };
  }
}

/** An answer cut mid code block still renders: its fence is closed. */
export function closeOpenFence(text: string): string {
  const fences = text.match(/^\s*(```|~~~)/gm)?.length ?? 0;
  return fences % 2 ? `${text}${text.endsWith('\n') ? '' : '\n'}\`\`\`\n` : text;
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

/** The first tool waiting for an approval, with the run's state to resume from; undefined when the run finished. */
function pausedRun(result: { interruptions: { name?: string; arguments?: string }[]; state: { toString(): string } }) {
  const first = result.interruptions[0];
  if (!first) return undefined;
  return { state: result.state.toString(), tool: first.name ?? 'a tool', args: first.arguments ?? '' };
}

function noteItem(text: string): AgentInputItem {
  return { type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text }] };
}
