/** Thread rows and their JSON form. */
import { retrySerializable } from '../db/retry.js';
import { randomUUID } from 'node:crypto';
import { and, asc, desc, eq, inArray, sql as dsql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { threadConversationKey } from './ids.js';
import { apiThreads } from './schema.js';

export type ThreadRow = typeof apiThreads.$inferSelect;

export async function getThread(db: Db, keyId: string, threadId: string): Promise<ThreadRow | undefined> {
  // A lone read can still lose a serialization conflict at SERIALIZABLE (40001): retried, not answered with a 503.
  const [row] = await retrySerializable(() =>
    db
      .select()
      .from(apiThreads)
      .where(and(eq(apiThreads.keyId, keyId), eq(apiThreads.threadId, threadId))),
  );
  return row;
}

/** Inserts a thread; returns undefined when one with this id already exists for this key. */
export async function insertThread(
  db: Db,
  keyId: string,
  threadId: string,
  metadata: Record<string, unknown>,
): Promise<ThreadRow | undefined> {
  // Many threads created at once (stateless runs) conflict at SERIALIZABLE: 40001 is retried, not answered 503.
  const [row] = await retrySerializable(() =>
    db
      .insert(apiThreads)
      .values({ keyId, threadId, incarnation: randomUUID(), metadata })
      .onConflictDoNothing()
      .returning(),
  );
  return row;
}

export async function patchThreadMetadata(
  db: Db,
  keyId: string,
  threadId: string,
  metadata: Record<string, unknown>,
): Promise<ThreadRow | undefined> {
  // Merge like LangGraph: given keys replace, others stay.
  const [row] = await retrySerializable(() =>
    db
      .update(apiThreads)
      .set({ metadata: dsql`${apiThreads.metadata} || ${JSON.stringify(metadata)}::jsonb`, updatedAt: new Date() })
      .where(and(eq(apiThreads.keyId, keyId), eq(apiThreads.threadId, threadId)))
      .returning(),
  );
  return row;
}

export interface ThreadSearch {
  metadata?: Record<string, unknown>;
  ids?: string[];
  status?: string;
  limit: number;
  offset: number;
  sortBy: 'thread_id' | 'status' | 'created_at' | 'updated_at' | 'state_updated_at';
  sortOrder: 'asc' | 'desc';
}

export async function searchThreads(db: Db, keyId: string, s: ThreadSearch): Promise<ThreadRow[]> {
  const where = [eq(apiThreads.keyId, keyId)];
  if (s.metadata && Object.keys(s.metadata).length)
    where.push(dsql`${apiThreads.metadata} @> ${JSON.stringify(s.metadata)}::jsonb`);
  if (s.ids) where.push(inArray(apiThreads.threadId, s.ids.length ? s.ids : ['00000000-0000-0000-0000-000000000000']));
  if (s.status) where.push(eq(apiThreads.status, s.status));
  const column = {
    thread_id: apiThreads.threadId,
    status: apiThreads.status,
    created_at: apiThreads.createdAt,
    updated_at: apiThreads.updatedAt,
    state_updated_at: apiThreads.updatedAt,
  }[s.sortBy];
  return db
    .select()
    .from(apiThreads)
    .where(and(...where))
    .orderBy(s.sortOrder === 'asc' ? asc(column) : desc(column), asc(apiThreads.threadId))
    .limit(s.limit)
    .offset(s.offset);
}

export function conversationKeyOf(t: Pick<ThreadRow, 'keyId' | 'threadId' | 'incarnation'>): string {
  return threadConversationKey(t.keyId, t.threadId, t.incarnation);
}

/** LangGraph `Thread`. `values` only when the caller loaded them (they cost a session read). */
export function toThread(t: ThreadRow, values: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    thread_id: t.threadId,
    created_at: t.createdAt.toISOString(),
    updated_at: t.updatedAt.toISOString(),
    state_updated_at: t.updatedAt.toISOString(),
    metadata: t.metadata,
    status: t.status,
    values,
    interrupts: {},
    config: {},
    error: t.status === 'error' ? 'the last run failed' : null,
  };
}
