/**
 * What the commands need from the memory and scheduler modules, as small interfaces of our own: the commands are
 * written against these, and wiring.ts adapts whatever those modules export. A missing port makes its commands
 * answer "not available here" instead of failing.
 */
import type { ConversationRef } from '../core/types.js';

export interface MemoryItem {
  id: string;
  text: string;
  updatedAt?: Date;
}

export interface MemoryPort {
  /** `visibleIn`: a group conversation's key, so only what was learned there (or shared) is listed in it. */
  list(userKey: string, visibleIn?: string): Promise<MemoryItem[]>;
  /** Let one memory be recalled in groups too (or not); false when it is not this user's. */
  share(userKey: string, id: string, shared: boolean): Promise<boolean>;
  /** Forget one memory (by id) or all of this user's; returns how many were forgotten. */
  forget(userKey: string, id: string | 'all'): Promise<number>;
}

export interface CheckinView {
  enabled: boolean;
  /** Daily local time, 'HH:mm', when the cadence is a daily time. */
  time?: string;
  /** Other cadences, described. */
  cadence: string;
  timezone: string;
  nextAt: Date | null;
  disabledReason?: string | null;
  /** Opted in to admins' scheduled announcements. */
  announcements?: boolean;
}

export interface CheckinChange {
  enabled?: boolean;
  time?: string;
  timezone?: string;
  announcements?: boolean;
}

export interface CheckinPort {
  get(ref: ConversationRef): Promise<CheckinView | null>;
  set(ref: ConversationRef, ownerId: string, change: CheckinChange): Promise<CheckinView>;
  disable(ref: ConversationRef): Promise<boolean>;
}

export interface ScheduledView {
  id: string;
  text: string;
  /** Who gets it: "this conversation", "opted-in users". */
  target: string;
  /** When, described ("2025-06-01 09:00 UTC", "daily 09:00 Europe/Berlin"). */
  when: string;
  nextAt: Date | null;
}

export type ScheduleWhen = { at: string } | { time: string } | { pattern: string } | { everyMs: number };

export interface ScheduleAdd {
  text: string;
  when: ScheduleWhen;
  /** This conversation, or everyone opted in to announcements. */
  to: { ref: ConversationRef } | 'optins';
  /** Platform user id of the admin who scheduled it. */
  createdBy: string;
}

export interface SchedulePort {
  list(): Promise<ScheduledView[]>;
  add(input: ScheduleAdd): Promise<ScheduledView>;
  remove(id: string): Promise<boolean>;
}

export interface Ports {
  memory?: MemoryPort;
  checkins?: CheckinPort;
  schedule?: SchedulePort;
}
