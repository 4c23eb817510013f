/**
 * Applies extracted operations to what is stored: add new facts, supersede changed ones (newest wins; the old one
 * is retired and never recalled again), delete what the user retracted. "Changed" is decided by meaning, not by
 * similarity: a fact that fills the same slot as a known one (extract/slot.ts: its subject, or its wording's
 * "the user's X is", "works at", "lives in") replaces it, whichever extractor and embedder produced them. Safe to
 * run twice over the same lines (a retried job): a fact whose text is already stored is skipped.
 */
import { tokenize } from './embed/tokenize.js';
import { slotOfSubject, slotOfText, slotsOf } from './extract/slot.js';
import type { MemoryOp } from './extract/types.js';
import type { Memory, MemoryStore } from './types.js';

export interface ConsolidateResult {
  added: Memory[];
  superseded: { old: Memory; now: Memory }[];
  deleted: Memory[];
  deletedAll: boolean;
}

const norm = (s: string) => tokenize(s).join(' ');

/** The known fact a description points at: most of the description's words, best overlap wins. */
export function bestMatch(description: string, known: Memory[]): Memory | undefined {
  const want = new Set(tokenize(description));
  if (!want.size) return undefined;
  let best: Memory | undefined;
  let bestScore = 0.5; // at least half of the description's words
  for (const m of known) {
    const have = new Set(tokenize(m.text));
    let hit = 0;
    for (const w of want) if (have.has(w)) hit++;
    const score = hit / want.size;
    if (score > bestScore) [best, bestScore] = [m, score];
  }
  return best;
}

export async function consolidate(
  store: MemoryStore,
  userKey: string,
  ops: MemoryOp[],
  known: Memory[],
  meta: { source?: string | null; at?: Date; scope?: string | null; shared?: boolean } = {},
): Promise<ConsolidateResult> {
  const facts = [...known];
  const res: ConsolidateResult = { added: [], superseded: [], deleted: [], deletedAll: false };
  const forgetLocal = (m: Memory) => facts.splice(facts.indexOf(m), 1);
  const sameSlot = (key: string | null) => (m: Memory) => key !== null && slotsOf(m.subject, m.text).has(key);
  for (const op of ops) {
    const key = slotOfSubject(op.subject) ?? (op.op === 'delete' ? null : slotOfText(op.text));
    const byTarget = op.target ? facts.find((m) => m.id === op.target) : undefined;
    if (op.op === 'delete') {
      if (op.target === 'all') {
        await store.delete(userKey, 'all');
        facts.length = 0;
        res.deletedAll = true;
        continue;
      }
      const victims = byTarget ? [byTarget] : facts.filter(sameSlot(key));
      if (!victims.length) {
        const m = bestMatch(op.text, facts);
        if (m) victims.push(m);
      }
      for (const m of victims) {
        if (await store.delete(userKey, m.id)) res.deleted.push(m);
        forgetLocal(m);
      }
      continue;
    }
    const text = op.text.trim();
    if (!text || facts.some((m) => norm(m.text) === norm(text))) continue;
    const input = {
      text,
      kind: 'fact' as const,
      subject: key,
      source: meta.source ?? null,
      createdAt: meta.at,
      scope: meta.scope ?? null,
      shared: meta.shared ?? false,
    };
    const old = byTarget ?? facts.find(sameSlot(key)) ?? facts.find(sameSlot(slotOfText(text)));
    if (old) {
      const now = await store.supersede(userKey, old.id, input);
      forgetLocal(old);
      facts.unshift(now);
      res.superseded.push({ old, now });
    } else {
      const now = await store.add(userKey, input);
      facts.unshift(now);
      res.added.push(now);
    }
  }
  return res;
}
