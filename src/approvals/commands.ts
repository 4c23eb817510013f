/**
 * `/approve <id>` and `/reject <id>`: the one place a decision is checked, whether typed (local channel, any chat)
 * or clicked (adapters turn a button into this invocation). Only the person whose message started the run, or an
 * admin, may decide; a pending, unexpired approval takes one decision: it becomes an inbound event on the
 * conversation's inbox (id `approval:<id>`, so a second click is a duplicate there), and the worker resumes the
 * run from its stored state. Every attempt is audited.
 */
import { z } from 'zod';
import { atLeast, defineCommand, type CommandDef } from '../commands/registry.js';
import type { IngressSink } from '../core/adapter.js';
import { conversationRefSchema, type InboundEvent } from '../core/types.js';
import type { Db } from '../db/client.js';
import { approvalById, auditDecision, conversationRefOf, type AuditResult } from './store.js';

export interface ApprovalCommandDeps {
  db: Db;
  sink: IngressSink;
}

const idArg = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9_-]{1,60}$/, 'Name the approval: its id is in the prompt.');

export function approvalCommands(d: ApprovalCommandDeps): CommandDef[] {
  return [decisionCommand(d, true), decisionCommand(d, false)];
}

function decisionCommand(d: ApprovalCommandDeps, approve: boolean): CommandDef {
  const decision = approve ? 'approve' : 'reject';
  return defineCommand<string>({
    name: decision,
    description: approve ? 'Let a waiting tool call run' : 'Refuse a waiting tool call',
    usage: '<id>',
    role: 'user',
    args: idArg,
    async run(inv, id, caller) {
      const answer = async (result: AuditResult, text: string) => {
        await auditDecision(d.db, { approvalId: id, actor: caller.principal, decision, result });
        return { text, ephemeral: true };
      };
      const row = await approvalById(d.db, id);
      if (!row) return answer('unknown', `There is no approval \`${id}\`.`);
      if (row.status !== 'pending') return answer('decided', `That was already decided (${row.status}).`);
      if (row.expiresAt.getTime() <= Date.now()) return answer('expired', 'That approval expired; nothing was done.');
      if (caller.principal !== row.requester && !atLeast(caller.role, 'admin'))
        return answer('refused', 'Only the person who asked (or an admin) can decide this.');
      const ref = conversationRefSchema.safeParse(await conversationRefOf(d.db, row.conversationKey));
      if (!ref.success) return answer('unknown', `There is no approval \`${id}\`.`);
      const now = new Date().toISOString();
      const event: InboundEvent = {
        id: `approval:${row.id}`,
        platform: ref.data.platform,
        tenant: ref.data.tenant,
        conversation: ref.data,
        sender: { id: inv.user.id, name: inv.user.name, isBot: false },
        text: '',
        attachments: [],
        mentionsBot: true,
        kind: 'approval',
        approval: { id: row.id, decision },
        sentAt: now,
        receivedAt: now,
      };
      // Deduplicated by the event id: whichever decision reached the inbox first is the one.
      if ((await d.sink.submit(event)) === 'duplicate') return answer('decided', 'That was already decided.');
      return answer('accepted', approve ? 'Approved: running it now.' : 'Rejected: it will not run.');
    },
  });
}
