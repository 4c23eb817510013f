/**
 * The one place a decision on a pending approval is checked and taken, whoever asks: a typed or clicked
 * `/approve` / `/reject` (commands.ts) or the agent API's `command.resume` (src/api/resume.ts). A pending,
 * unexpired approval takes one decision: it becomes an inbound event on the conversation's inbox (id
 * `approval:<id>`, so a second decision is a duplicate there), and the worker resumes the run from its stored
 * state. Every attempt is audited.
 */
import type { IngressSink } from '../core/adapter.js';
import { conversationRefSchema, type InboundEvent } from '../core/types.js';
import type { Db } from '../db/client.js';
import { approvalById, auditDecision, conversationRefOf, type Approval, type AuditResult } from './store.js';

export interface DecideDeps {
  db: Db;
  sink: IngressSink;
}

export interface DecisionRequest {
  approvalId: string;
  decision: 'approve' | 'reject';
  /** `platform:userId` of whoever decides (audited, and recorded as the decider). */
  actor: string;
  /** The decision event's sender on the conversation's platform. */
  sender: { id: string; name?: string };
  /** Whether this actor may decide this approval (the person who asked, an admin, the thread's API key). */
  allowed(row: Approval): boolean;
}

export interface DecisionResult {
  result: AuditResult;
  text: string;
  /** The approval as read before the decision (undefined when there is none with that id). */
  row?: Approval;
  /** A decision for it was already on the conversation's inbox (this one changed nothing). */
  duplicate?: boolean;
}

export async function decideApproval(d: DecideDeps, r: DecisionRequest): Promise<DecisionResult> {
  const answer = async (result: AuditResult, text: string, row?: Approval): Promise<DecisionResult> => {
    await auditDecision(d.db, { approvalId: r.approvalId, actor: r.actor, decision: r.decision, result });
    return { result, text, row };
  };
  const row = await approvalById(d.db, r.approvalId);
  if (!row) return answer('unknown', `There is no approval \`${r.approvalId}\`.`);
  if (row.status !== 'pending') return answer('decided', `That was already decided (${row.status}).`, row);
  if (row.expiresAt.getTime() <= Date.now()) return answer('expired', 'That approval expired; nothing was done.', row);
  if (!r.allowed(row)) return answer('refused', 'Only the person who asked (or an admin) can decide this.', row);
  const ref = conversationRefSchema.safeParse(await conversationRefOf(d.db, row.conversationKey));
  if (!ref.success) return answer('unknown', `There is no approval \`${r.approvalId}\`.`);
  const now = new Date().toISOString();
  const event: InboundEvent = {
    id: `approval:${row.id}`,
    platform: ref.data.platform,
    tenant: ref.data.tenant,
    conversation: ref.data,
    sender: { id: r.sender.id, name: r.sender.name, isBot: false },
    text: '',
    attachments: [],
    mentionsBot: true,
    kind: 'approval',
    approval: { id: row.id, decision: r.decision },
    sentAt: now,
    receivedAt: now,
  };
  // Deduplicated by the event id: whichever decision reached the inbox first is the one.
  if ((await d.sink.submit(event)) === 'duplicate')
    return { ...(await answer('decided', 'That was already decided.', row)), duplicate: true };
  const approve = r.decision === 'approve';
  return answer('accepted', approve ? 'Approved: running it now.' : 'Rejected: it will not run.', row);
}
