/**
 * The extraction job for one user: for each conversation they spoke in since the last run, read the session items
 * past this user's watermark, extract facts with the model (or the offline extractor) and consolidate them; then
 * compact: when a DM session's history grows past its window (SESSION_HISTORY_LIMIT items per turn), fold the
 * items about to fall out into the conversation's rolling summary memory. Facts are always flushed first (the
 * extraction above covers everything up to the newest item), so compaction never causes amnesia.
 */
import { and, eq, sql as dsql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { ConversationRef } from '../../core/types.js';
import { withTx, type Db } from '../../db/client.js';
import { conversations } from '../../db/schema.js';
import { consolidate } from '../consolidate.js';
import type { FactExtractor, Summariser } from '../extract/types.js';
import { summarySource } from '../recall.js';
import { memoryProgress } from '../schema.js';
import type { MemoryStore, NewMemory } from '../types.js';
import type { ExtractionScheduler, PendingConversation } from './pending.js';
import { readItems, toLines } from './session-lines.js';

/** Most items read per conversation per run (an older backlog is skipped, and logged). */
const MAX_ITEMS = 400;
/** Already-processed items shown as context (what "it" refers to). */
const CONTEXT_ITEMS = 6;
export const SUMMARY_MAX_CHARS = 1_500;

export interface ExtractionDeps {
  db: Db;
  store: MemoryStore;
  extractor: FactExtractor;
  summariser: Summariser;
  scheduler: ExtractionScheduler;
  historyLimit: number;
  log: Logger;
}

export async function runExtraction(deps: ExtractionDeps, userKey: string): Promise<void> {
  for (const p of await deps.scheduler.pending(userKey)) {
    await processConversation(deps, userKey, p);
    await deps.scheduler.done(userKey, p);
  }
}

/** Summarise in steps of a quarter window, ahead of the items actually dropping out of it. */
export function compactionCut(total: number, window: number): { cut: number; step: number } {
  const step = Math.max(2, Math.ceil(window / 4));
  return { cut: total - window + step, step };
}

async function processConversation(deps: ExtractionDeps, userKey: string, p: PendingConversation): Promise<void> {
  const [conv] = await deps.db
    .select({ sessionId: conversations.sessionId, itemCount: conversations.itemCount, ref: conversations.ref })
    .from(conversations)
    .where(eq(conversations.key, p.conversationKey));
  if (!conv) return;
  const group = (conv.ref as ConversationRef).kind !== 'dm';
  const [progress] = await deps.db
    .select()
    .from(memoryProgress)
    .where(and(eq(memoryProgress.userKey, userKey), eq(memoryProgress.sessionId, conv.sessionId)));
  const total = Number(conv.itemCount);
  let from = Number(progress?.extractedTo ?? 0);
  if (total - from > MAX_ITEMS) {
    deps.log.warn({ skipped: total - MAX_ITEMS - from }, 'memory extraction backlog too long; oldest items skipped');
    from = total - MAX_ITEMS;
  }
  const items = await readItems(deps.db, conv.sessionId, Math.max(0, from - CONTEXT_ITEMS), total);
  const lines = toLines(items, { group, userKey, newFrom: from });
  if (lines.some((l) => l.isNew && l.role === 'user')) {
    // In a group the extractor (a model) only sees facts visible there: it must not copy a DM fact into one of
    // this group's memories.
    const known = await deps.store.list(userKey, {
      kind: 'fact',
      limit: 200,
      visibleIn: group ? p.conversationKey : undefined,
    });
    const ops = await deps.extractor.extract({ lines, known });
    const at = lines.filter((l) => l.isNew).at(-1)?.at;
    // Scoped to where it was said: a group recalls only what was learned in it, a DM's facts stay out of groups.
    const r = await consolidate(deps.store, userKey, ops, known, {
      source: p.conversationKey,
      at,
      scope: p.conversationKey,
    });
    deps.log.info(
      { ops: ops.length, added: r.added.length, superseded: r.superseded.length, deleted: r.deleted.length },
      'memories consolidated',
    );
  }

  let summarisedTo = Number(progress?.summarisedTo ?? 0);
  const { cut, step } = compactionCut(total, deps.historyLimit);
  // DMs only: a group's summary would carry other people's words into this user's private memory.
  if (!group && cut - summarisedTo >= step) {
    const old = toLines(await readItems(deps.db, conv.sessionId, Math.max(summarisedTo, cut - MAX_ITEMS), cut), {
      group,
      userKey,
      newFrom: 0,
    });
    if (old.length) {
      const source = summarySource(p.conversationKey, conv.sessionId);
      const previous = (await deps.store.list(userKey, { kind: 'summary', limit: 50 })).find(
        (m) => m.source === source,
      );
      const text = await deps.summariser.summarise({
        previous: previous?.text ?? null,
        lines: old,
        maxChars: SUMMARY_MAX_CHARS,
      });
      const summary: NewMemory = { text, kind: 'summary', source, createdAt: old.at(-1)!.at, scope: p.conversationKey };
      if (previous) await deps.store.supersede(userKey, previous.id, summary);
      else await deps.store.add(userKey, summary);
      deps.log.info({ items: cut - summarisedTo }, 'conversation history compacted into a summary memory');
    }
    summarisedTo = cut;
  }

  await withTx(deps.db, (tx) =>
    tx
      .insert(memoryProgress)
      .values({ userKey, sessionId: conv.sessionId, extractedTo: total, summarisedTo, updatedAt: new Date() })
      .onConflictDoUpdate({
        target: [memoryProgress.userKey, memoryProgress.sessionId],
        set: {
          extractedTo: dsql`greatest(${memoryProgress.extractedTo}, ${total})`,
          summarisedTo: dsql`greatest(${memoryProgress.summarisedTo}, ${summarisedTo})`,
          updatedAt: new Date(),
        },
      }),
  );
}
