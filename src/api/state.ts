/**
 * A thread's state is its gateway conversation's current session (`session_items`), shown as LangGraph messages.
 * Each committed turn is a checkpoint (checkpoint id = turn id), so history lists the state after each turn,
 * newest first. Read-only: the session is written only by workers' turn commits.
 */
import { desc, eq } from 'drizzle-orm';
import { withTx, type Db } from '../db/client.js';
import { conversations, sessionItems } from '../db/schema.js';
import { toLgMessages, type LgMessage, type StoredItem } from './messages.js';

/** Most recent session items shown; the model itself sees far fewer (SESSION_HISTORY_LIMIT). */
export const STATE_MAX_ITEMS = 2_000;

export interface Conversation {
  sessionId: string | null;
  items: StoredItem[];
}

/** One transaction, so the session id and its items agree; retried on 40001 like every other read. */
export function loadConversation(db: Db, conversationKey: string): Promise<Conversation> {
  return withTx(db, async (tx) => {
    const [conv] = await tx
      .select({ sessionId: conversations.sessionId })
      .from(conversations)
      .where(eq(conversations.key, conversationKey));
    if (!conv) return { sessionId: null, items: [] };
    const rows = await tx
      .select({
        position: sessionItems.position,
        turnId: sessionItems.turnId,
        createdAt: sessionItems.createdAt,
        item: sessionItems.item,
      })
      .from(sessionItems)
      .where(eq(sessionItems.sessionId, conv.sessionId))
      .orderBy(desc(sessionItems.position))
      .limit(STATE_MAX_ITEMS);
    return {
      sessionId: conv.sessionId,
      items: rows.reverse().map((r) => ({ ...r, item: r.item as Record<string, unknown> })),
    };
  });
}

export function messagesOf(c: Conversation): LgMessage[] {
  return c.sessionId ? toLgMessages(c.sessionId, c.items) : [];
}

/**
 * The conversation as turn `turnId` left it: a run's own final values, as LangGraph answers with the run's last
 * checkpoint. A run queued behind it (multitask `enqueue`) may have committed by the time the values are read.
 */
export function asOfTurn(c: Conversation, turnId: string | null): Conversation {
  const last = turnId ? c.items.findLastIndex((i) => i.turnId === turnId) : -1;
  return last < 0 ? c : { ...c, items: c.items.slice(0, last + 1) };
}

/** The messages one turn wrote (a run's input and answer). */
export function turnMessages(c: Conversation, turnId: string): LgMessage[] {
  return c.sessionId
    ? toLgMessages(
        c.sessionId,
        c.items.filter((i) => i.turnId === turnId),
      )
    : [];
}

interface Checkpoint {
  thread_id: string;
  checkpoint_ns: string;
  checkpoint_id: string | null;
  checkpoint_map: null;
}

export interface ThreadState {
  values: { messages: LgMessage[] };
  next: string[];
  tasks: unknown[];
  checkpoint: Checkpoint;
  parent_checkpoint: Checkpoint | null;
  metadata: Record<string, unknown>;
  created_at: string | null;
  interrupts: unknown[];
}

/** Where each turn ends: index (exclusive) into items, with the turn's id and time. */
function turnEnds(items: StoredItem[]): { end: number; turnId: string; at: Date }[] {
  const ends: { end: number; turnId: string; at: Date }[] = [];
  items.forEach((it, i) => {
    const next = items[i + 1];
    // Items written outside a turn (no turn id) belong to the turn before them.
    const turnId = it.turnId ?? ends.at(-1)?.turnId ?? 'initial';
    if (!next || (next.turnId && next.turnId !== turnId)) ends.push({ end: i + 1, turnId, at: it.createdAt });
  });
  return ends;
}

function checkpoint(threadId: string, id: string | null): Checkpoint {
  return { thread_id: threadId, checkpoint_ns: '', checkpoint_id: id, checkpoint_map: null };
}

function stateAt(threadId: string, c: Conversation, ends: ReturnType<typeof turnEnds>, k: number): ThreadState {
  const at = ends[k];
  const items = at ? c.items.slice(0, at.end) : [];
  return {
    values: { messages: c.sessionId ? toLgMessages(c.sessionId, items) : [] },
    next: [],
    tasks: [],
    checkpoint: checkpoint(threadId, at?.turnId ?? null),
    parent_checkpoint: k > 0 ? checkpoint(threadId, ends[k - 1]!.turnId) : null,
    metadata: { source: 'loop', step: k + 1, thread_id: threadId },
    created_at: at ? at.at.toISOString() : null,
    interrupts: [],
  };
}

/** The state now, or after the turn `checkpointId` (null when that checkpoint does not exist). */
export function threadState(threadId: string, c: Conversation, checkpointId?: string): ThreadState | null {
  const ends = turnEnds(c.items);
  if (checkpointId === undefined) return stateAt(threadId, c, ends, ends.length - 1);
  const k = ends.findIndex((e) => e.turnId === checkpointId);
  return k < 0 ? null : stateAt(threadId, c, ends, k);
}

/** States after each turn, newest first, optionally only those older than checkpoint `before`. */
export function threadHistory(threadId: string, c: Conversation, limit: number, before?: string): ThreadState[] {
  const ends = turnEnds(c.items);
  let k = ends.length - 1;
  if (before) {
    const b = ends.findIndex((e) => e.turnId === before);
    k = b < 0 ? -1 : b - 1;
  }
  const out: ThreadState[] = [];
  for (; k >= 0 && out.length < limit; k--) out.push(stateAt(threadId, c, ends, k));
  return out;
}
