/**
 * The agent's `schedule_broadcast` tool: an admin asks in chat ("announce the maintenance tomorrow at 9") and the
 * agent schedules the announcement to everyone opted in, exactly as `/schedule add <when> | <text>` would. It
 * runs that very command, as the person who asked: the same role check, parsing, scheduling and audit entry.
 *
 * Three guards: the tool is opt-in (only agents whose `tools` list names it have it), it is offered only in turns
 * of someone the command allows (an admin), and it always stops the run for an approval (`needsApproval`): the
 * prompt shows the time and text, and nothing is scheduled until the asker (or another admin) approves.
 */
import { tool, type RunContext, type Tool } from '@openai/agents';
import { z } from 'zod';
import { optIn } from '../agent/tools.js';
import { atLeast, type CommandRegistry } from '../commands/registry.js';
import type { TurnContext } from '../core/module.js';
import type { Db } from '../db/client.js';
import { principalOf, type AccessPolicy } from './policy.js';
import { standingOf } from './standing.js';

export const SCHEDULE_BROADCAST_TOOL = 'schedule_broadcast';

export interface BroadcastToolDeps {
  db: Db;
  policy: AccessPolicy;
  commands: Pick<CommandRegistry, 'invoke'>;
}

/** Whose request this is: on a resumed run the sender is whoever decided, the approval names who asked. */
function askerOf(ctx: TurnContext): { principal: string; userId: string; name?: string } {
  const own = principalOf(ctx.ref.platform, ctx.sender.id);
  const principal = ctx.approval?.requester ?? own;
  const userId = principal.slice(principal.indexOf(':') + 1);
  return { principal, userId, name: principal === own ? ctx.sender.name : undefined };
}

export function scheduleBroadcastTool(d: BroadcastToolDeps): Tool<TurnContext> {
  const t = tool({
    name: SCHEDULE_BROADCAST_TOOL,
    description:
      'Schedule an announcement to every user opted in to announcements (admins only; a person approves it first). ' +
      '`when`: a one-off time ("tomorrow at 9", "2026-06-01 09:00") or a recurrence ("daily 09:00", "every 12h", ' +
      '"cron 0 9 * * 1"). `text`: the message, sent exactly as written.',
    parameters: z.object({
      when: z
        .string()
        .min(1)
        .max(100)
        .regex(/^[^|\n]+$/, 'one line, without |')
        .describe('when to send it'),
      text: z.string().min(1).max(4000).describe('the announcement, as it will be sent'),
    }),
    // Offered only where the command is allowed, so a user's turn never even sees it. A resumed run keeps it (the
    // SDK refuses an approved call to a tool no longer offered): if the asker's role went meanwhile, the command
    // itself refuses, and the model says so.
    isEnabled: async ({ runContext }) => {
      const ctx = (runContext as RunContext<TurnContext>).context;
      if (!ctx?.ref) return false;
      if (ctx.approval) return true;
      return atLeast((await standingOf(d.db, d.policy, askerOf(ctx).principal)).role, 'admin');
    },
    needsApproval: true,
    execute: async ({ when, text }, rc) => {
      const ctx = (rc as RunContext<TurnContext>).context;
      const asker = askerOf(ctx);
      // The admin command itself, as the asker: if their role went meanwhile, it refuses and nothing is scheduled.
      const answer = await d.commands.invoke({
        platform: ctx.ref.platform,
        tenant: ctx.ref.tenant,
        conversation: ctx.ref,
        user: { id: asker.userId, ...(asker.name ? { name: asker.name } : {}) },
        name: 'schedule',
        args: `add ${when.trim()} | ${text.trim()}`,
        id: `tool:${ctx.turnId}`,
      });
      return answer.text;
    },
  });
  return optIn(t) as Tool<TurnContext>;
}
