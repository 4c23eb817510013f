/**
 * The agent's reminder tools. Scoped to the person and conversation of the turn (`rc.context`): nobody lists or
 * cancels someone else's reminders. Errors come back as text the model can relay, never as exceptions.
 */
import { tool, type RunContext, type Tool } from '@openai/agents';
import { z } from 'zod';
import type { TurnContext } from '../core/module.js';
import type { SchedulerCtx } from './context.js';
import { cancelReminder, describeReminder, pendingReminders, setReminder } from './reminders.js';

function turnOf(rc: RunContext<TurnContext> | undefined): TurnContext | null {
  return rc?.context?.userKey ? rc.context : null;
}
const NO_TURN = 'Reminders are only available in a conversation.';

export function reminderTools(ctx: SchedulerCtx): Tool<TurnContext>[] {
  const set = tool({
    name: 'set_reminder',
    description:
      'Set a one-off reminder for the user in this conversation. `when` is read in the user\'s timezone: "in 10 minutes", ' +
      '"tomorrow at 9", "friday at 17:30", "2025-06-01 09:00", or an ISO 8601 time with offset.',
    parameters: z.object({
      text: z.string().describe('what to remind the user of'),
      when: z.string().describe('when to remind them'),
    }),
    execute: async ({ text, when }, rc?: RunContext<TurnContext>) => {
      const turn = turnOf(rc);
      return turn ? setReminder(ctx, turn, text, when) : NO_TURN;
    },
  });
  const list = tool({
    name: 'list_reminders',
    description: "List the user's pending reminders in this conversation, with their ids.",
    parameters: z.object({}),
    execute: async (_args, rc?: RunContext<TurnContext>) => {
      const turn = turnOf(rc);
      if (!turn) return NO_TURN;
      const rows = await pendingReminders(ctx, turn.userKey, turn.conversationKey);
      return rows.length
        ? ['Your reminders:', ...rows.map((r) => `- ${describeReminder(r)}`)].join('\n')
        : 'You have no pending reminders.';
    },
  });
  const cancel = tool({
    name: 'cancel_reminder',
    description: "Cancel one of the user's pending reminders by the id shown by list_reminders.",
    parameters: z.object({ id: z.string().describe('the reminder id, e.g. 3f9a1c') }),
    execute: async ({ id }, rc?: RunContext<TurnContext>) => {
      const turn = turnOf(rc);
      if (!turn) return NO_TURN;
      const row = await cancelReminder(ctx, turn.userKey, turn.conversationKey, id);
      return row ? `Cancelled ${describeReminder(row)}` : `No pending reminder with id ${id}.`;
    },
  });
  return [set, list, cancel] as Tool<TurnContext>[];
}
