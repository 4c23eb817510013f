/**
 * The offline deterministic model: used when no OPENAI_API_KEY is set (development) and in tests. It speaks the
 * Agents SDK `Model` interface, so the real runner, tools and session code run end to end with no network.
 *
 * Behaviour (documented in README):
 * - echoes the user's messages since its last answer, in order: "Echo: a | b";
 * - asks for the time ("what time is it?") -> calls the `current_time` tool, then answers with its output;
 * - test phrases: `[[silent]]` says nothing, `[[fail]]` throws like a provider outage, `[[slow:MS]]` takes MS ms,
 *   `[[long:N]]` answers with about N characters including a fenced code block, `[[instructions]]` answers with
 *   the system instructions it was given (to test what modules add to a turn);
 * - modules' phrasings, first: each module may contribute scripted answers (`offlineTurns`), e.g. the scheduler's
 *   silent check-ins and "remind me <when> to <what>" (src/scheduler/offline.ts).
 */
import { Usage, type Model, type ModelRequest, type ModelResponse } from '@openai/agents';
import type { OfflineTurn } from '../core/module.js';

type Item = Record<string, unknown>;

function textOf(item: Item): string {
  const c = item.content;
  if (typeof c === 'string') return c;
  if (Array.isArray(c)) return c.map((p: Item) => (typeof p.text === 'string' ? p.text : '')).join('');
  return '';
}

function assistantMessage(text: string): Item {
  return { type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text }] };
}

export function longReply(n: number): string {
  const head = 'Here is a long answer.\n\n';
  const code = '```ts\n' + Array.from({ length: 40 }, (_, i) => `const value${i} = ${i} * 2; // keep me whole`).join('\n') + '\n```\n\n';
  let body = '';
  let i = 0;
  while (head.length + code.length + body.length < n) body += `Paragraph ${i++}: ${'lorem ipsum dolor sit amet '.repeat(8).trim()}.\n\n`;
  return head + code + body.trimEnd();
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

  async getResponse(request: ModelRequest): Promise<ModelResponse> {
    const items = (typeof request.input === 'string' ? [{ role: 'user', content: request.input }] : request.input) as Item[];
    // Everything after the last assistant message is this turn's input.
    let start = 0;
    items.forEach((it, i) => {
      if (it.role === 'assistant') start = i + 1;
    });
    const fresh = items.slice(start);
    const userTexts = fresh.filter((it) => it.role === 'user').map(textOf);
    const toolResult = fresh.find((it) => it.type === 'function_call_result') as Item | undefined;
    const joined = userTexts.join('\n');
    const usage = new Usage({ requests: 1, inputTokens: Math.ceil(JSON.stringify(items).length / 4), outputTokens: 0 });
    const slow = /\[\[slow:(\d+)\]\]/.exec(joined);
    if (slow) await new Promise((r) => setTimeout(r, Number(slow[1])));
    if (joined.includes('[[fail]]')) throw Object.assign(new Error('offline model: simulated provider failure'), { status: 503 });
    // Modules' phrasings (the scheduler's: silent check-ins, "remind me <when> to <what>").
    const scheduled = this.scripted(userTexts, toolResult, request.tools.map((t) => t.name));
    if (scheduled && 'call' in scheduled) {
      return { usage, output: [{ type: 'function_call', callId: `call_${Date.now()}`, ...scheduled.call, status: 'completed' }] as ModelResponse['output'] };
    }
    if (scheduled) {
      usage.outputTokens = Math.ceil(scheduled.text.length / 4);
      usage.totalTokens = usage.inputTokens + usage.outputTokens;
      return { usage, output: [assistantMessage(scheduled.text)] as ModelResponse['output'] };
    }

    let text: string;
    if (toolResult) {
      const out = toolResult.output as Item | string;
      text = `The current time is ${typeof out === 'string' ? out : String(out?.text ?? '')} (from the current_time tool).`;
    } else if (/\bwhat time\b/i.test(joined) && request.tools.some((t) => t.name === 'current_time')) {
      return {
        usage,
        output: [{ type: 'function_call', callId: `call_${Date.now()}`, name: 'current_time', arguments: '{}', status: 'completed' }] as ModelResponse['output'],
      };
    } else if (joined.includes('[[instructions]]')) {
      text = request.systemInstructions ?? '';
    } else if (joined.includes('[[silent]]')) {
      text = '';
    } else if (/\[\[long:(\d+)\]\]/.test(joined)) {
      text = longReply(Number(/\[\[long:(\d+)\]\]/.exec(joined)![1]));
    } else {
      text = `Echo: ${userTexts.map((t) => t.replace(/\s+/g, ' ').trim()).join(' | ')}`;
    }
    usage.outputTokens = Math.ceil(text.length / 4);
    usage.totalTokens = usage.inputTokens + usage.outputTokens;
    return { usage, output: [assistantMessage(text)] as ModelResponse['output'] };
  }

  async *getStreamedResponse(request: ModelRequest): AsyncIterable<never> {
    // Workers do not stream; the runner only calls this for streamed runs.
    void request;
    throw new Error('offline model does not stream');
  }
}
