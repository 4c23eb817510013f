/**
 * What the agent is told each turn: the user's most relevant facts (bounded in count and characters, newer ones
 * weighed up) and, when this conversation's older history was compacted, its rolling summary.
 */
import type { ConversationRef } from '../core/types.js';
import type { Memory, MemoryStore, ScoredMemory, VisibilityOptions } from './types.js';

export interface RecallSettings {
  limit: number;
  maxChars: number;
  halfLifeDays: number;
}

const DAY = 86_400_000;
/** How much recency can change a ranking: a very old memory keeps 70% of its relevance. */
const RECENCY_WEIGHT = 0.3;

export function recencyWeight(createdAt: Date, now: Date, halfLifeDays: number): number {
  const age = Math.max(0, now.getTime() - createdAt.getTime()) / DAY;
  return 1 - RECENCY_WEIGHT + RECENCY_WEIGHT * 2 ** (-age / halfLifeDays);
}

/**
 * Where a conversation's recall may look: a DM sees all of the user's memories; a group only those learned in that
 * group or shared by their owner, so what someone told the bot privately never reaches a prompt the group sees.
 */
export function visibleIn(ref: ConversationRef, conversationKey: string): string | undefined {
  return ref.kind === 'dm' ? undefined : conversationKey;
}

/** The user's facts most relevant to `query`, relevance x recency, within the count and size bounds. */
export async function recallFacts(
  store: MemoryStore,
  userKey: string,
  query: string,
  now: Date,
  s: RecallSettings,
  scope: VisibilityOptions = {},
): Promise<ScoredMemory[]> {
  const hits = await store.search(userKey, query.trim() || 'about the user', {
    limit: s.limit * 3,
    kind: 'fact',
    visibleIn: scope.visibleIn,
  });
  const top = Math.max(...hits.map((h) => h.score), Number.MIN_VALUE);
  const ranked = hits
    .map((h) => ({ ...h, score: (h.score / top) * recencyWeight(h.createdAt, now, s.halfLifeDays) }))
    .sort((a, b) => b.score - a.score);
  const out: ScoredMemory[] = [];
  let chars = 0;
  for (const h of ranked) {
    if (out.length >= s.limit) break;
    if (chars + h.text.length > s.maxChars) continue;
    chars += h.text.length;
    out.push(h);
  }
  return out;
}

const day = (d: Date) => d.toISOString().slice(0, 10);

/**
 * The `source` of a conversation's summary: the conversation AND its session, so a session reset (/reset) starts
 * with no summary of the history it discarded.
 */
export function summarySource(conversationKey: string, sessionId: string): string {
  return `${conversationKey}#${sessionId}`;
}

export function factsInstruction(facts: Memory[]): string | null {
  if (!facts.length) return null;
  return [
    'Long-term memory about this user, from earlier conversations (most relevant first; when facts conflict, the newer one holds). Use it when it helps; do not recite it unprompted:',
    ...facts.map((m) => `- ${m.text} (noted ${day(m.createdAt)})`),
  ].join('\n');
}

export function summaryInstruction(summary: Memory | undefined, maxChars: number): string | null {
  if (!summary) return null;
  return `Earlier in this conversation (older messages are no longer shown; summary as of ${day(summary.createdAt)}):\n${summary.text.slice(0, maxChars)}`;
}
