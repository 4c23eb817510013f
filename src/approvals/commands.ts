/**
 * `/approve <id>` and `/reject <id>`: the one place a decision is checked, whether typed (local channel, any chat)
 * or clicked (adapters turn a button into this invocation). Only the person whose message started the run, or an
 * admin, may decide. The checks, the decision event and the audit are in decide.ts (the agent API's
 * `command.resume` takes the same path).
 */
import { z } from 'zod';
import { atLeast, defineCommand, type CommandDef } from '../commands/registry.js';
import type { IngressSink } from '../core/adapter.js';
import type { Db } from '../db/client.js';
import { decideApproval } from './decide.js';

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
      const r = await decideApproval(d, {
        approvalId: id,
        decision,
        actor: caller.principal,
        sender: { id: inv.user.id, name: inv.user.name },
        allowed: (row) => caller.principal === row.requester || atLeast(caller.role, 'admin'),
      });
      return { text: r.text, ephemeral: true };
    },
  });
}
