/**
 * Synthetic inbound events: how a check-in, a reminder or an announcement enters the normal pipeline (inbox,
 * one turn per conversation, session, outbox, paced delivery). Their ids are stable (see ids.ts), so ingress
 * dedupes a double fire and the consumed-ids table makes it once for ever.
 *
 * The sender is the person the conversation belongs to (the DM's user, or whoever set the check-in / reminder),
 * not a bot: the turn is for them, and their budgets and memory apply.
 */
import type { ConversationRef, InboundEvent } from '../core/types.js';

/** The check-in event text starts with this; the offline model and the hook recognise it. */
export const CHECKIN_MARKER = '[check-in]';
export const REMINDER_MARKER = '[reminder]';
export const ANNOUNCEMENT_MARKER = '[scheduled message]';

export function syntheticEvent(o: {
  id: string;
  ref: ConversationRef;
  senderId: string;
  kind: 'checkin' | 'reminder';
  text: string;
  now: Date;
}): InboundEvent {
  const at = o.now.toISOString();
  return {
    id: o.id,
    platform: o.ref.platform,
    tenant: o.ref.tenant,
    conversation: o.ref,
    sender: { id: o.senderId, isBot: false },
    text: o.text,
    attachments: [],
    mentionsBot: true,
    kind: o.kind,
    sentAt: at,
    receivedAt: at,
  };
}

/** "[check-in] Mon 2025-06-02 09:00 (Europe/Berlin)" + "\nTopic: ..." when the check-in has one. */
export function checkinText(localStamp: string, prompt: string | null, catchUp: boolean): string {
  const late = catchUp ? ' (late: the gateway was down at the scheduled time)' : '';
  return `${CHECKIN_MARKER} ${localStamp}${late}${prompt ? `\nTopic: ${prompt}` : ''}`;
}

/** What the session shows for a reminder (the reply is the reminder itself). */
export const reminderText = (text: string): string => `${REMINDER_MARKER} ${text}`;
export const announcementText = (): string => ANNOUNCEMENT_MARKER;
