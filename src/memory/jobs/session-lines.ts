/**
 * Reads a window of a session's items (session_items, the store PostgresSession writes) with their positions, and
 * turns them into conversation lines for extraction. Read directly rather than through PostgresSession.getItems:
 * the job needs positions (for its watermark) and a range, not "the last N, trimmed to a turn start".
 */
import { and, asc, eq, gte, lt } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { sessionItems } from '../../db/schema.js';
import type { ConversationLine } from '../extract/types.js';

export interface PositionedItem {
  position: number;
  item: Record<string, unknown>;
  at: Date;
  /** Whose message a user item is (`platform:tenant:userId`); null for older rows and non-person items. */
  senderKey: string | null;
}

export async function readItems(db: Db, sessionId: string, from: number, to: number): Promise<PositionedItem[]> {
  if (to <= from) return [];
  const rows = await db
    .select({
      position: sessionItems.position,
      item: sessionItems.item,
      at: sessionItems.createdAt,
      senderKey: sessionItems.senderKey,
    })
    .from(sessionItems)
    .where(and(eq(sessionItems.sessionId, sessionId), gte(sessionItems.position, from), lt(sessionItems.position, to)))
    .orderBy(asc(sessionItems.position));
  return rows.map((r) => ({
    position: Number(r.position),
    item: r.item as Record<string, unknown>,
    at: r.at,
    senderKey: r.senderKey,
  }));
}

function textOf(item: Record<string, unknown>): string {
  const c = item.content;
  if (typeof c === 'string') return c;
  if (Array.isArray(c)) return c.map((p: { text?: unknown }) => (typeof p.text === 'string' ? p.text : '')).join('');
  return '';
}

/** The `[name] ` a group message is shown with (toUserItem in src/worker/turn.ts keeps brackets out of names). */
const GROUP_PREFIX = /^\[[^\]\n]*\] /;

/**
 * User and assistant messages as lines (tool calls and results are left out). In a group conversation the user's
 * own lines are those stored with their user key (sender id, never the display name shown to the model: names are
 * neither unique nor fixed); everyone else's lines, and older lines with no sender, are dropped, so one user's
 * memory is never built from what someone else said.
 */
export function toLines(
  items: PositionedItem[],
  o: { group: boolean; userKey: string; newFrom: number },
): ConversationLine[] {
  const lines: ConversationLine[] = [];
  for (const { position, item, at, senderKey } of items) {
    const role = item.role;
    if (role !== 'user' && role !== 'assistant') continue;
    let text = textOf(item).trim();
    if (role === 'user' && o.group) {
      if (senderKey !== o.userKey) continue;
      text = text.replace(GROUP_PREFIX, '');
    }
    if (role === 'user') text = text.replace(/^\(edited\) /, '');
    if (text) lines.push({ role, text, at, isNew: position >= o.newFrom });
  }
  return lines;
}
