/**
 * Every id the scheduler derives, in one place. Stable ids are what make each step safe to run twice:
 * - a check-in's id is a hash of its conversation key: one check-in per conversation, one BullMQ job scheduler
 *   (`checkin:<id>`) per check-in, whoever upserts it;
 * - synthetic events carry the slot they were scheduled for (`checkin:<id>:<slot>`), so a double fire is one event;
 * - custom BullMQ job ids avoid ':' (BullMQ refuses them unless they have exactly three segments).
 */
import { createHash } from 'node:crypto';

const hash = (s: string, n: number) => createHash('sha256').update(s).digest('hex').slice(0, n);

export const checkinId = (conversationKey: string): string => `c${hash(conversationKey, 23)}`;
export const checkinSchedulerId = (id: string): string => `checkin:${id}`;
export const messageSchedulerId = (id: string): string => `msg:${id}`;

/** Inverse of the scheduler ids; null for schedulers that are not ours. */
export function parseSchedulerId(schedulerId: string): { kind: 'checkin' | 'msg'; id: string } | null {
  const m = /^(checkin|msg):([\w-]+)$/.exec(schedulerId);
  return m ? { kind: m[1] as 'checkin' | 'msg', id: m[2]! } : null;
}

/** A reminder set by a turn is keyed by what the turn consumed: a re-run of the same turn sets the same reminder. */
/**
 * The n-th reminder a turn sets, keyed by the turn's first event: a re-run of the turn (after a crash, with more
 * messages collected, or a model that words the reminder differently) sets the same reminders, not new ones.
 */
export function reminderId(firstEventId: string, ordinal: number): string {
  return `r${hash(`${firstEventId}\n${ordinal}`, 23)}`;
}

export const reminderJobId = (id: string): string => `reminder-${id}`;
export const oneOffMessageJobId = (id: string): string => `msg-${id}`;
export const fanoutBatchJobId = (messageId: string, slot: number, after: string): string =>
  `fan-${messageId}-${slot}-${after || 'start'}`;
export const fanoutSendJobId = (messageId: string, slot: number, recipient: string): string =>
  `fansend-${messageId}-${slot}-${recipient}`;

export const checkinEventId = (id: string, slot: number): string => `checkin:${id}:${slot}`;
export const reminderEventId = (id: string): string => `reminder:${id}`;
export const messageEventId = (messageId: string, slot: number, recipient?: string): string =>
  recipient ? `msg:${messageId}:${slot}:${recipient}` : `msg:${messageId}:${slot}`;

/** What a synthetic event id refers to (the hook looks the text up by it). */
export type SyntheticRef =
  | { kind: 'checkin'; id: string; slot: number }
  | { kind: 'reminder'; id: string }
  | { kind: 'msg'; id: string; slot: number };

export function parseEventId(eventId: string): SyntheticRef | null {
  let m = /^checkin:([\w-]+):(\d+)$/.exec(eventId);
  if (m) return { kind: 'checkin', id: m[1]!, slot: Number(m[2]) };
  m = /^reminder:([\w-]+)$/.exec(eventId);
  if (m) return { kind: 'reminder', id: m[1]! };
  m = /^msg:([\w-]+):(\d+)(?::[\w-]+)?$/.exec(eventId);
  if (m) return { kind: 'msg', id: m[1]!, slot: Number(m[2]) };
  return null;
}

/** Redis keys of the module, built by the one key owner. */
export { schedulerKeys } from '../queue/keys.js';
