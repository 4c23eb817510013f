/**
 * Reads and writes of pending approvals. The writes that change an approval's state run inside the turn's own
 * commit (src/worker/commit.ts `extraWrites`), so the prompt, the decision and the answer can never disagree with
 * the conversation's history. A decision is fenced by `status = 'pending'`: of two racing commits only one lands.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { and, asc, desc, eq, lt, sql as dsql } from 'drizzle-orm';
import type { Db, Tx } from '../db/client.js';
import { conversations, receipts } from '../db/schema.js';
import { approvalAudit, approvals } from './schema.js';

export type Approval = typeof approvals.$inferSelect;
export type ApprovalStatus = 'approved' | 'rejected' | 'expired';

/** 12 url-safe characters: unguessable enough, short enough for any button payload. */
export const newApprovalId = (): string => randomBytes(9).toString('base64url');

/** Raised inside a commit when the approval was decided meanwhile: the commit rolls back (a stale turn). */
export class ApprovalDecidedError extends Error {
  override name = 'ApprovalDecidedError';
}

export async function pendingApproval(db: Db, conversationKey: string): Promise<Approval | undefined> {
  const [row] = await db
    .select()
    .from(approvals)
    .where(and(eq(approvals.conversationKey, conversationKey), eq(approvals.status, 'pending')))
    .orderBy(asc(approvals.createdAt))
    .limit(1);
  return row;
}

/** The conversation's newest approval, whatever its status (what a late decision is told about). */
export async function latestApproval(db: Db, conversationKey: string): Promise<Approval | undefined> {
  const [row] = await db
    .select()
    .from(approvals)
    .where(eq(approvals.conversationKey, conversationKey))
    .orderBy(desc(approvals.createdAt))
    .limit(1);
  return row;
}

export async function approvalById(db: Db, id: string): Promise<Approval | undefined> {
  const [row] = await db.select().from(approvals).where(eq(approvals.id, id)).limit(1);
  return row;
}

/** Conversations whose approval is past its time but still pending: their next turn expires it. */
export async function expiredConversations(db: Db, now: Date, limit = 200): Promise<string[]> {
  const rows = await db
    .selectDistinct({ key: approvals.conversationKey })
    .from(approvals)
    .where(and(eq(approvals.status, 'pending'), lt(approvals.expiresAt, now)))
    .limit(limit);
  return rows.map((r) => r.key);
}

/** The conversation's reference (where a decision event is addressed). */
export async function conversationRefOf(db: Db, key: string): Promise<unknown> {
  const [row] = await db.select({ ref: conversations.ref }).from(conversations).where(eq(conversations.key, key));
  return row?.ref;
}

/** The platform id of an approval prompt's last part (where its buttons are), if it was sent. */
export async function promptMessageOf(db: Db, approvalId: string): Promise<string | null> {
  const [row] = await db
    .select({ id: receipts.platformMessageId })
    .from(approvals)
    .innerJoin(receipts, eq(receipts.turnId, approvals.turnId))
    .where(eq(approvals.id, approvalId))
    .orderBy(desc(receipts.partIndex))
    .limit(1);
  return row?.id ?? null;
}

export function insertApproval(tx: Tx, row: typeof approvals.$inferInsert): Promise<unknown> {
  return tx.insert(approvals).values(row).execute();
}

export async function settleApproval(tx: Tx, id: string, status: ApprovalStatus, by: string | null): Promise<void> {
  const rows = await tx
    .update(approvals)
    .set({ status, decidedBy: by, decidedAt: dsql`now()` })
    .where(and(eq(approvals.id, id), eq(approvals.status, 'pending')))
    .returning({ id: approvals.id });
  if (!rows.length) throw new ApprovalDecidedError(`approval ${id} was already settled`);
}

export type AuditResult = 'accepted' | 'refused' | 'expired' | 'decided' | 'unknown';

export async function auditDecision(
  db: Db,
  e: { approvalId: string; actor: string; decision: 'approve' | 'reject'; result: AuditResult },
): Promise<void> {
  await db.insert(approvalAudit).values({ id: randomUUID(), ...e });
}
