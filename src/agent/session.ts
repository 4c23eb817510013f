/**
 * Agents SDK `Session` implementations backed by CockroachDB / Postgres (drizzle).
 *
 * `PostgresSession` reads and writes `session_items` directly. `TurnSession` is what a worker hands the runner:
 * it reads committed history but buffers what the runner adds, so the worker can commit the new items together
 * with the turn record and the reply in ONE transaction (a retried turn can then never duplicate history).
 */
import type { AgentInputItem, Session } from '@openai/agents';
import { and, desc, eq, sql as dsql } from 'drizzle-orm';
import { conversations, sessionItems } from '../db/schema.js';
import { withTx, type Db } from '../db/client.js';
import { preparedQuery } from '../db/prepared.js';

const recentItems = preparedQuery((db) =>
  db
    .select({ item: sessionItems.item })
    .from(sessionItems)
    .where(eq(sessionItems.sessionId, dsql.placeholder('sessionId')))
    .orderBy(desc(sessionItems.position))
    .limit(dsql.placeholder('n'))
    .prepare('recent_session_items'),
);

export class PostgresSession implements Session {
  constructor(
    protected readonly db: Db,
    protected readonly sessionId: string,
    /** At most this many recent items are ever loaded (bounds prompt size and memory). */
    protected readonly maxItems: number,
  ) {}

  async getSessionId(): Promise<string> {
    return this.sessionId;
  }

  async getItems(limit?: number): Promise<AgentInputItem[]> {
    const n = Math.min(limit ?? this.maxItems, this.maxItems);
    const rows = await recentItems(this.db).execute({ sessionId: this.sessionId, n });
    return trimToTurnStart(rows.reverse().map((r) => r.item as AgentInputItem));
  }

  async addItems(items: AgentInputItem[]): Promise<void> {
    if (!items.length) return;
    await withTx(this.db, async (tx) => {
      // The conversation (if this is its current session) keeps the item count that turn commits use.
      const [conv] = await tx
        .update(conversations)
        .set({ itemCount: dsql`${conversations.itemCount} + ${items.length}` })
        .where(eq(conversations.sessionId, this.sessionId))
        .returning({ itemCount: conversations.itemCount });
      let base: number;
      if (conv) base = Number(conv.itemCount) - items.length;
      else {
        const [row] = await tx
          .select({ max: dsql<number>`coalesce(max(${sessionItems.position}), -1)` })
          .from(sessionItems)
          .where(eq(sessionItems.sessionId, this.sessionId));
        base = Number(row?.max ?? -1) + 1;
      }
      await tx
        .insert(sessionItems)
        .values(items.map((item, i) => ({ sessionId: this.sessionId, position: base + i, item })));
    });
  }

  async popItem(): Promise<AgentInputItem | undefined> {
    return withTx(this.db, async (tx) => {
      const [last] = await tx
        .select()
        .from(sessionItems)
        .where(eq(sessionItems.sessionId, this.sessionId))
        .orderBy(desc(sessionItems.position))
        .limit(1);
      if (!last) return undefined;
      await tx
        .delete(sessionItems)
        .where(and(eq(sessionItems.sessionId, this.sessionId), eq(sessionItems.position, last.position)));
      return last.item as AgentInputItem;
    });
  }

  async clearSession(): Promise<void> {
    await this.db.delete(sessionItems).where(eq(sessionItems.sessionId, this.sessionId));
  }
}

/**
 * A window cut by a row limit may start in the middle of a tool exchange (a tool result whose call was cut off),
 * which providers reject. Drop leading items until the window starts at a user message.
 */
function trimToTurnStart(items: AgentInputItem[]): AgentInputItem[] {
  const first = items.findIndex((it) => (it as { role?: string }).role === 'user');
  return first <= 0 ? items : items.slice(first);
}

export class TurnSession extends PostgresSession {
  /** Items the runner produced this turn, committed by the worker with the turn. */
  readonly pending: AgentInputItem[] = [];
  private history: AgentInputItem[] | undefined;

  /** A turn's session whose recent items were already read (oldest first, at least `maxItems` if there are). */
  static withHistory(db: Db, sessionId: string, maxItems: number, recent: AgentInputItem[]): TurnSession {
    const s = new TurnSession(db, sessionId, maxItems);
    s.history = trimToTurnStart(recent.slice(-maxItems));
    return s;
  }

  override async getItems(limit?: number): Promise<AgentInputItem[]> {
    // Read history once per turn: the runner may ask more than once, and the answer must not change mid-turn.
    this.history ??= await super.getItems();
    const all = [...this.history, ...this.pending];
    return limit === undefined ? all : all.slice(-limit);
  }

  override async addItems(items: AgentInputItem[]): Promise<void> {
    this.pending.push(...items);
  }

  override async popItem(): Promise<AgentInputItem | undefined> {
    return this.pending.pop();
  }

  override async clearSession(): Promise<void> {
    throw new Error('clearSession is not allowed inside a turn; use the reset command');
  }
}
