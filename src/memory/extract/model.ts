/**
 * Fact extraction and summaries with the real model, through the Agents SDK with structured output (zod), using
 * the agent's provider settings (OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_API) and MEMORY_MODEL or AGENT_MODEL.
 * Runs only in the background extraction job, never on a reply's hot path.
 */
import { Agent, Runner } from '@openai/agents';
import { z } from 'zod';
import type { Config } from '../../config/env.js';
import { createOpenAIProvider } from '../../agent/provider.js';
import {
  memoryOpSchema,
  type ConversationLine,
  type ExtractInput,
  type FactExtractor,
  type MemoryOp,
  type Summariser,
} from './types.js';

const EXTRACT_INSTRUCTIONS = `You maintain long-term memory about ONE user of a chat assistant.
From the conversation lines marked NEW, extract durable facts about the user worth remembering for weeks:
preferences, personal details, plans, relationships, things they explicitly ask you to remember.
Ignore small talk, one-off requests, anything the assistant said on its own, and facts about other people in a group.
Compare with the KNOWN memories (id, subject, text):
- a new fact -> op "add";
- a changed fact (the user says the value is different now) -> op "update" with target = the known id (newest wins);
- the user asks to forget or retracts a fact -> op "delete" with target = the known id ("all" if they want everything forgotten);
- already known and unchanged -> nothing.
Write each fact in the third person, self-contained: "The user's favourite colour is green."
Lines marked CONTEXT were processed before: use them only to understand references ("it is green now").
Return an empty list when there is nothing to remember.`;

const SUMMARY_INSTRUCTIONS = `Summarise a chat conversation for the assistant's own later reference.
Extend the PREVIOUS summary (if any) with the NEW lines. Keep decisions, open questions, commitments and what the user
cares about; drop pleasantries. Plain prose, at most the requested number of characters.`;

function render(lines: ConversationLine[]): string {
  return lines.map((l) => `${l.isNew ? 'NEW' : 'CONTEXT'} ${l.at.toISOString()} ${l.role}: ${l.text}`).join('\n');
}

export function createModelRunner(config: Config, httpFetch?: typeof fetch): Runner {
  return new Runner({
    tracingDisabled: true,
    modelProvider: createOpenAIProvider({
      apiKey: config.OPENAI_API_KEY,
      baseURL: config.OPENAI_BASE_URL,
      api: config.OPENAI_API,
      fetch: httpFetch,
    }),
  });
}

export class ModelExtractor implements FactExtractor {
  private readonly agent: Agent<unknown, z.ZodObject<{ operations: z.ZodArray<typeof memoryOpSchema> }>>;

  constructor(
    private readonly runner: Runner,
    model: string,
  ) {
    this.agent = new Agent({
      name: 'memory-extractor',
      instructions: EXTRACT_INSTRUCTIONS,
      model,
      outputType: z.object({ operations: z.array(memoryOpSchema) }),
    });
  }

  async extract({ lines, known }: ExtractInput): Promise<MemoryOp[]> {
    const knownText = known.map((m) => `${m.id} | ${m.subject ?? '-'} | ${m.text}`).join('\n') || '(none)';
    const result = await this.runner.run(
      this.agent,
      `KNOWN memories:\n${knownText}\n\nConversation:\n${render(lines)}`,
      { maxTurns: 1 },
    );
    return result.finalOutput?.operations ?? [];
  }
}

export class ModelSummariser implements Summariser {
  private readonly agent: Agent<unknown, z.ZodObject<{ summary: z.ZodString }>>;

  constructor(
    private readonly runner: Runner,
    model: string,
  ) {
    this.agent = new Agent({
      name: 'memory-summariser',
      instructions: SUMMARY_INSTRUCTIONS,
      model,
      outputType: z.object({ summary: z.string() }),
    });
  }

  async summarise({
    previous,
    lines,
    maxChars,
  }: {
    previous: string | null;
    lines: ConversationLine[];
    maxChars: number;
  }): Promise<string> {
    const input = `At most ${maxChars} characters.\n\nPREVIOUS summary:\n${previous ?? '(none)'}\n\nNEW lines:\n${render(lines.map((l) => ({ ...l, isNew: true })))}`;
    const result = await this.runner.run(this.agent, input, { maxTurns: 1 });
    return (result.finalOutput?.summary ?? previous ?? '').slice(0, maxChars);
  }
}
