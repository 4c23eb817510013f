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
}

export async function readItems(db: Db, sessionId: string, from: number, to: number): Promise<PositionedItem[]> {
  if (to <= from) return [];
  const rows = await db
    .select({ position: sessionItems.position, item: sessionItems.item, at: sessionItems.createdAt })
    .from(sessionItems)
    .where(and(eq(sessionItems.sessionId, sessionId), gte(sessionItems.position, from), lt(sessionItems.position, to)))
    .orderBy(asc(sessionItems.position));
  return rows.map((r) => ({ position: Number(r.position), item: r.item as Record<string, unknown>, at: r.at }));
}

function textOf(item: Record<string, unknown>): string {
  const c = item.content;
  if (typeof c === 'string') return c;
  if (Array.isArray(c)) return c.map((p: { text?: unknown }) => (typeof p.text === 'string' ? p.text : '')).join('');
  return '';
}

/**
 * User and assistant messages as lines (tool calls and results are left out). In a group conversation the user's
 * own lines are the ones carrying their `[label] ` prefix (see toUserItem in src/worker/turn.ts); other people's
 * lines are dropped, so one user's memory is never built from what someone else said.
 */
export function toLines(items: PositionedItem[], o: { group: boolean; label: string; newFrom: number }): ConversationLine[] {
  const lines: ConversationLine[] = [];
  const prefix = `[${o.label}] `;
  for (const { position, item, at } of items) {
    const role = item.role;
    if (role !== 'user' && role !== 'assistant') continue;
    let text = textOf(item).trim();
    if (role === 'user' && o.group) {
      if (!text.startsWith(prefix)) continue;
      text = text.slice(prefix.length);
    }
    if (role === 'user') text = text.replace(/^\(edited\) /, '');
    if (text) lines.push({ role, text, at, isNew: position >= o.newFrom });
  }
  return lines;
}
