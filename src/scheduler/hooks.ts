/**
 * Turn hooks for synthetic events.
 * - Check-in turns (every event of the turn is a check-in) run lean: a few history items and an instruction that
 *   this is a proactive check-in where saying nothing is a fine answer (an empty answer sends nothing).
 * - Reminder and announcement turns do not run the model: the answer is the stored text, looked up by the
 *   event's id (null, i.e. nothing sent, if it was cancelled or removed meanwhile).
 * - When a person wrote in the same batch, the turn is theirs: it runs normally, and due reminders are handed
 *   to the model as an instruction so they are not lost.
 * After the commit, check-in tokens are charged to the check-in's daily budget and reminders marked delivered.
 */
import type { BeforeRun, TurnContext, TurnHooks, TurnOutcome } from '../core/module.js';
import { addCheckinTokens, loadCheckin } from './checkins.js';
import type { SchedulerCtx } from './context.js';
import { parseEventId, type SyntheticRef } from './ids.js';
import { loadMessage } from './messages.js';
import { markReminderDelivered, reminderForDelivery } from './reminders.js';
import { localDay } from './slots.js';

export const CHECKIN_INSTRUCTION =
  'This turn is a proactive check-in that you started on a schedule; the user did not write. Look at the recent ' +
  'conversation and the check-in topic, if any. Only say something if it is genuinely useful to the user right now, ' +
  'in one or two short sentences. If there is nothing worth saying, answer with an empty message: then nothing is sent.';

function syntheticRefs(ctx: TurnContext): { refs: SyntheticRef[]; human: boolean } {
  const refs: SyntheticRef[] = [];
  let human = false;
  for (const e of ctx.events) {
    const ref = e.kind === 'checkin' || e.kind === 'reminder' ? parseEventId(e.id) : null;
    if (ref) refs.push(ref);
    else human = true;
  }
  return { refs, human };
}

/** The text to deliver for a reminder or announcement event, or null. */
async function deliveryText(ctx: SchedulerCtx, ref: SyntheticRef): Promise<string | null> {
  if (ref.kind === 'reminder') {
    const text = await reminderForDelivery(ctx, ref.id);
    return text === null ? null : `⏰ Reminder: ${text}`;
  }
  if (ref.kind === 'msg') return (await loadMessage(ctx, ref.id))?.text ?? null;
  return null;
}

export function schedulerHooks(ctx: SchedulerCtx): TurnHooks {
  return {
    async beforeRun(turn): Promise<BeforeRun | void> {
      const { refs, human } = syntheticRefs(turn);
      if (!refs.length) return;
      const deliveries = refs.filter((r) => r.kind !== 'checkin');
      const texts = (await Promise.all(deliveries.map((r) => deliveryText(ctx, r)))).filter(
        (t): t is string => t !== null,
      );
      if (human) {
        if (texts.length)
          turn.instructions.push(
            `Also pass on these due reminders to the user, word for word:\n${texts.map((t) => `- ${t}`).join('\n')}`,
          );
        return;
      }
      if (deliveries.length) {
        return texts.length
          ? { action: 'reply', text: texts.join('\n\n'), outcome: 'reminder' }
          : { action: 'reply', text: null, outcome: 'reminder_cancelled' };
      }
      // Only check-ins: still on? (It may have been turned off, or found unreachable, since it fired.)
      const row = await loadCheckin(ctx, refs[0]!.id);
      if (!row?.enabled) return { action: 'reply', text: null, outcome: 'checkin_skipped' };
      turn.instructions.push(CHECKIN_INSTRUCTION);
      return { action: 'run', historyLimit: ctx.settings.checkinHistory };
    },

    async afterCommit(turn: TurnContext, outcome: TurnOutcome): Promise<void> {
      const { refs, human } = syntheticRefs(turn);
      for (const r of refs) {
        if (r.kind === 'reminder') await markReminderDelivered(ctx, r.id);
      }
      const checkin = refs.find((r) => r.kind === 'checkin');
      const tokens = outcome.inputTokens + outcome.outputTokens;
      if (checkin && !human && tokens > 0) {
        const row = await loadCheckin(ctx, checkin.id);
        if (row) await addCheckinTokens(ctx, row.id, localDay(row.timezone, turn.now), tokens);
      }
    },
  };
}
