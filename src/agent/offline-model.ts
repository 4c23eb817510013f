/**
 * The offline deterministic model: used when no OPENAI_API_KEY is set (development) and in tests. It speaks the
 * Agents SDK `Model` interface, so the real runner, tools and session code run end to end with no network.
 *
 * Behaviour (documented in README):
 * - echoes the user's messages since its last answer, in order: "Echo: a | b";
 * - asks for the time ("what time is it?") -> calls the `current_time` tool, then answers with its output;
 * - test phrases: `[[silent]]` says nothing, `[[fail]]` throws like a provider outage, `[[slow:MS]]` takes MS ms,
 *   `[[long:N]]` answers with about N characters including a fenced code block, `[[markdown]]` with a
 *   table, a code block and a list, `[[instructions]]` answers with
 *   the system instructions it was given (to test what modules add to a turn), `[[drip:MS]]` waits MS ms between
 *   streamed deltas (a slow, visibly streaming answer);
 * - image input parts show in the echo as `[image input: <type>, <bytes> bytes]` (what the model was given);
 * - streamed runs get the same answer as text deltas of a few words each (the runner's streamed path, as with a
 *   real provider), so live previews see several updates;
 * - `[[tool:NAME {json}]]` calls any tool it was given (MCP tools, handoffs `transfer_to_<agent>`) with those
 *   arguments, then answers "Tool NAME said: <output>" (after a handoff, the next agent answers the rest); several
 *   phrases are called one after the other, and the answer has a line per tool;
 * - modules' phrasings, first: each module may contribute scripted answers (`offlineTurns`), e.g. the scheduler's
 *   silent check-ins and "remind me <when> to <what>" (src/scheduler/offline.ts).
 */
import {
  Usage,
  withGenerationSpan,
  type Model,
  type ModelRequest,
  type ModelResponse,
  type StreamEvent,
} from '@openai/agents';
import type { OfflineTurn } from '../core/module.js';

type Item = Record<string, unknown>;

function textOf(item: Item): string {
  const c = item.content;
  if (typeof c === 'string') return c;
  if (Array.isArray(c)) return c.map((p: Item) => (typeof p.text === 'string' ? p.text : imageNote(p))).join('');
  return '';
}

/** An image input part, as the echo shows it: its type and size (so a test sees what image input arrived). */
function imageNote(p: Item): string {
  if (p.type !== 'input_image' || typeof p.image !== 'string') return '';
  const m = /^data:([^;,]+);base64,(.*)$/s.exec(p.image);
  if (!m) return ' [image input: url]';
  return ` [image input: ${m[1]}, ${Buffer.from(m[2]!, 'base64').length} bytes]`;
}

function assistantMessage(text: string): Item {
  return { type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text }] };
}

/** The `[[markdown]]` answer: what a chat renders (a table, a fenced code block, a list, inline code). */
export const MARKDOWN_SAMPLE = [
  'Here is a **summary** with a table and some code.',
  '',
  '| Region | Requests | p50 ms |',
  '|---|---:|---:|',
  '| eu-west | 1,204 | 38 |',
  '| us-east | 2,311 | 41 |',
  '',
  '```ts',
  'export function greet(name: string): string {',
  '  return `Hello, ${name}!`;',
  '}',
  '```',
  '',
  '- rendered as it streams',
  '- sanitised before it is shown, `inline code` too',
].join('\n');

export function longReply(n: number): string {
  const head = 'Here is a long answer.\n\n';
  const code =
    '```ts\n' +
    Array.from({ length: 40 }, (_, i) => `const value${i} = ${i} * 2; // keep me whole`).join('\n') +
    '\n```\n\n';
  let body = '';
  let i = 0;
  while (head.length + code.length + body.length < n)
    body += `Paragraph ${i++}: ${'lorem ipsum dolor sit amet '.repeat(8).trim()}.\n\n`;
  return head + code + body.trimEnd();
}

/** The request's items, and those after the last assistant message: this turn's input. */
function turnInput(request: ModelRequest): { items: Item[]; fresh: Item[] } {
  const items = (
    typeof request.input === 'string' ? [{ role: 'user', content: request.input }] : request.input
  ) as Item[];
  let start = 0;
  items.forEach((it, i) => {
    if (it.role === 'assistant') start = i + 1;
  });
  return { items, fresh: items.slice(start) };
}

/** A sleep that an abort ends at once (the runner's signal: /stop, the model timeout). */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      done();
      reject(signal!.reason as Error);
    };
    const t = setTimeout(() => {
      done();
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Three words (with their trailing space) per delta: several updates even for a short echo. */
export function offlineDeltas(text: string): string[] {
  const words = text.match(/\s*\S+\s*/g) ?? (text ? [text] : []);
  const out: string[] = [];
  for (let i = 0; i < words.length; i += 3) out.push(words.slice(i, i + 3).join(''));
  return out;
}

/** The streamed deltas of a response's messages. */
function messageDeltas(response: ModelResponse): string[] {
  return (response.output as Item[]).filter((it) => it.type === 'message').flatMap((it) => offlineDeltas(textOf(it)));
}

/** `[[drip:MS]]` in what the user said since the model's last answer: the pause between deltas (0: none). */
function dripMs(request: ModelRequest): number {
  const asked = turnInput(request)
    .fresh.filter((it) => it.role === 'user')
    .map(textOf)
    .join('\n');
  return Number(/\[\[drip:(\d+)\]\]/.exec(asked)?.[1] ?? 0);
}

/** The text of a tool's output item: a string, a `{ type: 'text', text }` part, or a list of parts. */
function outputText(out: unknown): string {
  if (typeof out === 'string') return out;
  if (Array.isArray(out)) return out.map(outputText).join('');
  const o = out as Item | undefined;
  return typeof o?.text === 'string' ? o.text : JSON.stringify(out ?? '');
}

const TOOL_PHRASES = /\[\[tool:([A-Za-z0-9_-]+)(?:\s+(\{.*?\}))?\]\]/g;

/**
 * `[[tool:NAME {json}]]`, one or several: a call (the first phrase not called yet this turn), the answer from
 * their results once each was called, or undefined to go on (no phrase; or a handoff, whose next agent answers
 * the rest of the message).
 */
type ToolTurn = { call: Item } | { text: string } | undefined;

function genericToolTurn(joined: string, fresh: Item[], tools: string[]): ToolTurn {
  const calls = fresh.filter((it) => it.type === 'function_call');
  const result = fresh.findLast((it) => it.type === 'function_call_result');
  const resultOf = result && calls.find((c) => c.callId === result.callId);
  const special = (name: unknown) => name === 'current_time' || String(name).startsWith('transfer_to_');
  const phrases = [...joined.matchAll(TOOL_PHRASES)];
  // Each phrase takes the first call of its tool not taken by an earlier phrase: the first left over is next.
  const unused = [...calls];
  const next = phrases.find((m) => {
    const i = unused.findIndex((c) => c.name === m[1]);
    if (i < 0) return true;
    unused.splice(i, 1);
    return false;
  });
  if (resultOf && !special(resultOf.name) && !next) {
    const said = calls.flatMap((c) => {
      const r = fresh.find((it) => it.type === 'function_call_result' && it.callId === c.callId);
      return r && !special(c.name) ? [`Tool ${String(c.name)} said: ${outputText(r.output)}`] : [];
    });
    return { text: said.join('\n') };
  }
  if (!next) return undefined;
  if (!tools.includes(next[1]!)) return { text: `No tool ${next[1]} here.` };
  const call = {
    type: 'function_call',
    callId: `call_${Date.now()}_${calls.length}`,
    name: next[1],
    arguments: next[2] ?? '{}',
  };
  return { call: { ...call, status: 'completed' } };
}

export class OfflineModel implements Model {
  constructor(private readonly turns: readonly OfflineTurn[] = []) {}

  /** The first module answer for this turn, if any. */
  private scripted(userTexts: string[], toolResult: Item | undefined, toolNames: string[]): ReturnType<OfflineTurn> {
    for (const turn of this.turns) {
      const answer = turn(userTexts, toolResult, toolNames);
      if (answer) return answer;
    }
    return null;
  }

  /**
   * A model call as the SDK's own models trace one: a generation span with the model and token counts. Not
   * streamed, a `[[drip:MS]]` answer takes as long as its streamed deltas would, all of it before the answer.
   */
  getResponse(request: ModelRequest): Promise<ModelResponse> {
    return this.traced(request, true);
  }

  private traced(request: ModelRequest, whole: boolean): Promise<ModelResponse> {
    return withGenerationSpan(
      async (span) => {
        const response = await this.answer(request);
        const drip = whole ? dripMs(request) : 0;
        if (drip) await sleep(drip * messageDeltas(response).length, request.signal);
        span.spanData.usage = {
          input_tokens: response.usage.inputTokens,
          output_tokens: response.usage.outputTokens,
        };
        return response;
      },
      { data: { model: 'offline' } },
    );
  }

  private async answer(request: ModelRequest): Promise<ModelResponse> {
    const { items, fresh } = turnInput(request);
    const userTexts = fresh.filter((it) => it.role === 'user').map(textOf);
    const toolResult = fresh.find((it) => it.type === 'function_call_result') as Item | undefined;
    const joined = userTexts.join('\n');
    const usage = new Usage({ requests: 1, inputTokens: Math.ceil(JSON.stringify(items).length / 4), outputTokens: 0 });
    const slow = /\[\[slow:(\d+)\]\]/.exec(joined);
    if (slow) await sleep(Number(slow[1]), request.signal);
    if (joined.includes('[[fail]]'))
      throw Object.assign(new Error('offline model: simulated provider failure'), { status: 503 });
    // Modules' phrasings (the scheduler's: silent check-ins, "remind me <when> to <what>").
    const scheduled = this.scripted(
      userTexts,
      toolResult,
      request.tools.map((t) => t.name),
    );
    if (scheduled && 'call' in scheduled) {
      return {
        usage,
        output: [
          { type: 'function_call', callId: `call_${Date.now()}`, ...scheduled.call, status: 'completed' },
        ] as ModelResponse['output'],
      };
    }
    if (scheduled) {
      usage.outputTokens = Math.ceil(scheduled.text.length / 4);
      usage.totalTokens = usage.inputTokens + usage.outputTokens;
      return { usage, output: [assistantMessage(scheduled.text)] as ModelResponse['output'] };
    }

    const callable = [...request.tools.map((t) => t.name), ...(request.handoffs ?? []).map((h) => h.toolName)];
    const generic = genericToolTurn(joined, fresh, callable);
    if (generic && 'call' in generic) return { usage, output: [generic.call] as ModelResponse['output'] };
    let text: string;
    if (generic) {
      text = generic.text;
    } else if (toolResult && !fresh.some((it) => String(it.name ?? '').startsWith('transfer_to_'))) {
      const out = toolResult.output as Item | string;
      text = `The current time is ${typeof out === 'string' ? out : String(out?.text ?? '')} (from the current_time tool).`;
    } else if (/\bwhat time\b/i.test(joined) && request.tools.some((t) => t.name === 'current_time')) {
      return {
        usage,
        output: [
          {
            type: 'function_call',
            callId: `call_${Date.now()}`,
            name: 'current_time',
            arguments: '{}',
            status: 'completed',
          },
        ] as ModelResponse['output'],
      };
    } else if (joined.includes('[[instructions]]')) {
      text = request.systemInstructions ?? '';
    } else if (joined.includes('[[silent]]')) {
      text = '';
    } else if (joined.includes('[[markdown]]')) {
      text = MARKDOWN_SAMPLE;
    } else if (/\[\[long:(\d+)\]\]/.test(joined)) {
      text = longReply(Number(/\[\[long:(\d+)\]\]/.exec(joined)![1]));
    } else {
      text = `Echo: ${userTexts.map((t) => t.replace(/\s+/g, ' ').trim()).join(' | ')}`;
    }
    usage.outputTokens = Math.ceil(text.length / 4);
    usage.totalTokens = usage.inputTokens + usage.outputTokens;
    return { usage, output: [assistantMessage(text)] as ModelResponse['output'] };
  }

  async *getStreamedResponse(request: ModelRequest): AsyncIterable<StreamEvent> {
    const response = await this.traced(request, false);
    const drip = dripMs(request);
    yield { type: 'response_started' };
    for (const delta of messageDeltas(response)) {
      if (drip) await sleep(drip, request.signal);
      yield { type: 'output_text_delta', delta };
    }
    const usage = response.usage;
    yield {
      type: 'response_done',
      response: {
        id: `offline_${Date.now()}`,
        usage: {
          requests: 1,
          inputTokens: usage.inputTokens,
          outputTokens: usage.outputTokens,
          totalTokens: usage.totalTokens,
        },
        output: response.output,
      },
    } as StreamEvent;
  }
}
