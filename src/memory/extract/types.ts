/**
 * Fact extraction and summarisation behind two small interfaces: the real model implements them through the Agents
 * SDK with structured output (model.ts); the offline extractor is a deterministic implementation (offline.ts).
 */
import { z } from 'zod';
import { tokenize } from '../embed/tokenize.js';
import type { Memory } from '../types.js';

export interface ConversationLine {
  role: 'user' | 'assistant';
  text: string;
  at: Date;
  /** false: already processed, given as context only (what "it" refers to); no facts are taken from it again. */
  isNew: boolean;
}

/**
 * add: a new fact. update: a changed fact (supersedes `target` or the known fact with the same subject).
 * delete: the user retracted a fact (`target` id, `subject`, or a description in `text`; target 'all' = everything).
 */
export const memoryOpSchema = z.object({
  op: z.enum(['add', 'update', 'delete']),
  text: z
    .string()
    .describe(
      'The fact, third person and self-contained ("The user\'s favourite colour is green."); for delete, what to forget.',
    ),
  subject: z.string().nullable().describe('Short slot the fact fills ("favourite colour", "home city"), or null.'),
  target: z
    .string()
    .nullable()
    .describe('Id of the known memory this changes or removes, "all" to forget everything, or null.'),
});
export type MemoryOp = z.infer<typeof memoryOpSchema>;

export interface ExtractInput {
  lines: ConversationLine[];
  /** The user's current facts, newest first. */
  known: Memory[];
}

export interface FactExtractor {
  extract(input: ExtractInput): Promise<MemoryOp[]>;
}

export interface Summariser {
  /** A new rolling summary: the previous one (if any) extended by these lines, at most `maxChars`. */
  summarise(input: { previous: string | null; lines: ConversationLine[]; maxChars: number }): Promise<string>;
}

/** Subjects compare by content words ("favourite colour" = "Favorite color"). */
export function subjectKey(subject: string | null | undefined): string | null {
  const k = subject ? tokenize(subject).join(' ') : '';
  return k || null;
}
