/**
 * What admin and user commands do to conversations, on the spine's own tables and under its fence:
 * - `resetSession`: a new session id and a bumped version in one transaction. A turn running meanwhile read the
 *   old (session, version), so its commit fails the fence (StaleTurnError) and it starts over in the new session.
 * - `postAsBot`: a message from the bot that no inbound event asked for (broadcast, "you were approved"). It is
 *   written like a turn's reply, in one transaction: bump the version (the same fence), one assistant item in the
 *   session (so the agent knows what it said), a turn row (outcome = why) and an outbox row; then the normal
 *   delivery job sends it, in turn order, paced per channel, with receipts. The turn id is derived from the
 *   caller's id, so posting the same thing twice (a retried command) is refused by the primary key.
 */
import { and, asc, eq, gt, sql as dsql } from 'drizzle-orm';
import { createHash, randomUUID } from 'node:crypto';
import type { ConversationRef } from '../core/types.js';
import { withTx, type Db } from '../db/client.js';
import { conversations, outbox, sessionItems, turns } from '../db/schema.js';

/** A UUID derived from `name` (same name, same id), in the v4 layout. */
export function stableUuid(name: string): string {
  const h = createHash('sha256').update(name).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; cause?: { code?: string } };
  return (e?.code ?? e?.cause?.code) === '23505';
}

/** Start a new session for this conversation; false when the bot has never talked there. */
export async function resetSession(db: Db, key: string): Promise<boolean> {
  return withTx(db, async (tx) => {
    const rows = await tx
      .update(conversations)
      .set({
        sessionId: randomUUID(),
        version: dsql`${conversations.version} + 1`,
        itemCount: 0,
        updatedAt: new Date(),
      })
      .where(eq(conversations.key, key))
      .returning({ key: conversations.key });
    return rows.length > 0;
  });
}

export type PostResult = 'posted' | 'duplicate' | 'unknown';

/** Queue `markdown` as the bot's message in a known conversation (see the file comment). */
export async function postAsBot(
  db: Db,
  key: string,
  markdown: string,
  o: { id: string; outcome: string },
): Promise<PostResult> {
  const turnId = stableUuid(`${o.id}:${key}`);
  try {
    return await withTx(db, async (tx) => {
      const [c] = await tx
        .update(conversations)
        .set({
          version: dsql`${conversations.version} + 1`,
          itemCount: dsql`${conversations.itemCount} + 1`,
          updatedAt: new Date(),
        })
        .where(eq(conversations.key, key))
        .returning({
          version: conversations.version,
          itemCount: conversations.itemCount,
          sessionId: conversations.sessionId,
          ref: conversations.ref,
        });
      if (!c) return 'unknown' as const;
      const seq = Number(c.version);
      const item = {
        type: 'message',
        role: 'assistant',
        status: 'completed',
        content: [{ type: 'output_text', text: markdown }],
      };
      await tx.insert(sessionItems).values({ sessionId: c.sessionId, position: Number(c.itemCount) - 1, turnId, item });
      await tx
        .insert(turns)
        .values({ id: turnId, conversationKey: key, sessionId: c.sessionId, seq, outcome: o.outcome, eventIds: [] });
      await tx.insert(outbox).values({ turnId, conversationKey: key, seq, ref: c.ref, markdown });
      return 'posted' as const;
    });
  } catch (err) {
    if (isUniqueViolation(err)) return 'duplicate';
    throw err;
  }
}

export interface KnownConversation {
  key: string;
  ref: ConversationRef;
}

/** DM conversations in key order, one page after `after` (keyset pagination: cheap on any table size). */
export async function dmConversationsPage(db: Db, after: string, limit: number): Promise<KnownConversation[]> {
  const rows = await db
    .select({ key: conversations.key, ref: conversations.ref })
    .from(conversations)
    .where(and(gt(conversations.key, after), dsql`${conversations.ref}->>'kind' = 'dm'`))
    .orderBy(asc(conversations.key))
    .limit(limit);
  return rows.map((r) => ({ key: r.key, ref: r.ref as ConversationRef }));
}

/** A user's DM conversations on one platform (any tenant): the DM key is `platform:tenant:dm:user`. */
export async function dmConversationsOf(db: Db, platform: string, userId: string): Promise<KnownConversation[]> {
  const rows = await db
    .select({ key: conversations.key, ref: conversations.ref })
    .from(conversations)
    .where(
      and(
        eq(conversations.platform, platform),
        dsql`${conversations.ref}->>'kind' = 'dm'`,
        dsql`coalesce(${conversations.ref}->>'user', ${conversations.ref}->>'channel') = ${userId}`,
      ),
    );
  return rows.map((r) => ({ key: r.key, ref: r.ref as ConversationRef }));
}

/** The most recently active conversations. */
export async function recentConversations(db: Db, limit: number) {
  return db
    .select({
      key: conversations.key,
      platform: conversations.platform,
      version: conversations.version,
      items: conversations.itemCount,
      lastMessageAt: conversations.lastMessageAt,
      updatedAt: conversations.updatedAt,
    })
    .from(conversations)
    .orderBy(dsql`${conversations.lastMessageAt} desc nulls last`)
    .limit(limit);
}
