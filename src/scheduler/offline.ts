/**
 * The offline model's deterministic behaviour for the scheduler (called from src/agent/offline-model.ts), so tests
 * and `npm run dev` can use check-ins and reminders with no real model:
 * - a check-in turn (the last user text starts with "[check-in]") says nothing, unless the check-in carries a
 *   topic ("Topic: ..."), then "Checking in: <topic>" — so "nothing to say sends nothing" is testable;
 * - "remind me <when> to <what>" calls set_reminder {text: what, when}; "list my reminders" calls list_reminders;
 *   "cancel reminder <id>" calls cancel_reminder; each tool's output is then the answer, as is.
 */
import { CHECKIN_MARKER } from './events.js';

export const REMINDER_TOOLS = ['set_reminder', 'list_reminders', 'cancel_reminder'];

export type OfflineAction = { text: string } | { call: { name: string; arguments: string } } | null;

type Item = Record<string, unknown>;

function outputText(out: unknown): string {
  if (typeof out === 'string') return out;
  const o = out as Item | undefined;
  return typeof o?.text === 'string' ? o.text : JSON.stringify(out ?? '');
}

export function schedulerOfflineTurn(
  userTexts: string[],
  toolResult: Item | undefined,
  toolNames: string[],
): OfflineAction {
  if (toolResult && REMINDER_TOOLS.includes(String(toolResult.name))) return { text: outputText(toolResult.output) };
  if (toolResult) return null;
  const last = userTexts.at(-1) ?? '';
  if (last.includes(CHECKIN_MARKER)) {
    const topic = /\nTopic: (.+)/.exec(last)?.[1]?.trim();
    return { text: topic ? `Checking in: ${topic}` : '' };
  }
  const has = (name: string) => toolNames.includes(name);
  const remind = /\bremind me (.+?) to (.+)$/is.exec(last);
  if (remind && has('set_reminder')) {
    return {
      call: { name: 'set_reminder', arguments: JSON.stringify({ text: remind[2]!.trim(), when: remind[1]!.trim() }) },
    };
  }
  if (/\b(?:list|show|what are) my reminders\b/i.test(last) && has('list_reminders'))
    return { call: { name: 'list_reminders', arguments: '{}' } };
  const cancel = /\bcancel (?:my )?reminder \[?([\w-]+)\]?/i.exec(last);
  if (cancel && has('cancel_reminder'))
    return { call: { name: 'cancel_reminder', arguments: JSON.stringify({ id: cancel[1] }) } };
  return null;
}
