/**
 * Time logic of the scheduler, pure and clock-free so it can be tested on fixed dates (DST changes included):
 * cadences, active-hours windows in a user's timezone, the next slot, and whether a fired job may run.
 * Timezones with luxon; cron patterns with cron-parser, the same parser BullMQ's job schedulers use, so the slot we
 * compute is the slot BullMQ fires.
 */
import { CronExpressionParser } from 'cron-parser';
import { DateTime, IANAZone } from 'luxon';

export type Cadence = { pattern: string; everyMs?: undefined } | { everyMs: number; pattern?: undefined };

export interface ActiveHours {
  /** 'HH:mm' local time, inclusive. */
  from: string;
  /** 'HH:mm' local time, exclusive; earlier than `from` = the window wraps midnight (22:00-06:00). */
  to: string;
}

const HHMM = /^([01]?\d|2[0-3]):([0-5]\d)$/;

export function isValidTimezone(tz: string): boolean {
  return IANAZone.isValidZone(tz);
}

export function parseHhmm(s: string): number | null {
  const m = HHMM.exec(s.trim());
  return m ? Number(m[1]) * 60 + Number(m[2]) : null;
}

/** Throws with a message a user can act on; returns the normalized cadence. */
export function validateCadence(c: { pattern?: string | null; everyMs?: number | null }): Cadence {
  if (c.pattern && c.everyMs) throw new Error('give either a cron pattern or an interval, not both');
  if (c.pattern) {
    try {
      CronExpressionParser.parse(c.pattern);
    } catch (err) {
      throw new Error(`invalid cron pattern "${c.pattern}": ${(err as Error).message}`);
    }
    return { pattern: c.pattern };
  }
  if (c.everyMs) {
    if (!Number.isInteger(c.everyMs) || c.everyMs < 1_000) throw new Error('the interval must be at least 1000 ms');
    return { everyMs: c.everyMs };
  }
  throw new Error('a check-in needs a cron pattern or an interval');
}

/** "09:00" -> the daily cron pattern "0 9 * * *" (what `/checkin time 09:00` means). */
export function dailyPattern(hhmm: string): string {
  const min = parseHhmm(hhmm);
  if (min === null) throw new Error(`"${hhmm}" is not a time like 09:00`);
  return `${min % 60} ${Math.floor(min / 60)} * * *`;
}

/** The 'HH:mm' of a plain daily pattern ("30 9 * * *" -> "09:30"), else undefined. */
export function dailyTimeOf(pattern: string | null | undefined): string | undefined {
  const m = /^(\d{1,2}) (\d{1,2}) \* \* \*$/.exec(pattern ?? '');
  if (!m || Number(m[1]) > 59 || Number(m[2]) > 23) return undefined;
  return `${m[2]!.padStart(2, '0')}:${m[1]!.padStart(2, '0')}`;
}

/** For people: "daily 09:00 (Europe/Berlin)", "cron 0 9 * * 1 (UTC)", "every 2h". */
export function describeCadence(c: Cadence, tz: string): string {
  if (c.everyMs) {
    const units: [number, string][] = [
      [86_400_000, 'd'],
      [3_600_000, 'h'],
      [60_000, 'min'],
      [1_000, 's'],
    ];
    const [size, unit] = units.find(([u]) => c.everyMs! % u === 0) ?? [1, 'ms'];
    return `every ${c.everyMs / size}${unit}`;
  }
  const daily = dailyTimeOf(c.pattern);
  return daily ? `daily ${daily} (${tz})` : `cron ${c.pattern} (${tz})`;
}

/** Is `at` inside the window, read on the wall clock of `tz`? No window = always. from == to = always. */
export function inActiveHours(window: ActiveHours | null, tz: string, at: Date): boolean {
  if (!window) return true;
  const from = parseHhmm(window.from);
  const to = parseHhmm(window.to);
  if (from === null || to === null || from === to) return true;
  const local = DateTime.fromJSDate(at, { zone: tz });
  const minute = local.hour * 60 + local.minute;
  return from < to ? minute >= from && minute < to : minute >= from || minute < to;
}

/** The local calendar day in `tz` ('yyyy-MM-dd'): the unit of a check-in's token budget. */
export function localDay(tz: string, at: Date): string {
  return DateTime.fromJSDate(at, { zone: tz }).toISODate()!;
}

/**
 * A stable per-check-in offset for interval cadences, in [1, every): BullMQ aligns `every` slots to multiples of
 * the interval, so without it 100,000 hourly check-ins would all fire at :00. Never 0, because an `every`
 * scheduler with no offset fires at once on creation (and again on every re-creation after a Redis flush).
 */
export function everyOffset(id: string, everyMs: number): number {
  let h = 2166136261;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 16777619) >>> 0;
  return 1 + (h % (everyMs - 1));
}

/** The first slot strictly after `after` (epoch ms), as BullMQ computes it. */
export function nextSlotAfter(c: Cadence, tz: string, after: number, offset = 0): number {
  if (c.everyMs) {
    const base = Math.floor(after / c.everyMs) * c.everyMs + offset;
    return base > after ? base : base + c.everyMs;
  }
  return CronExpressionParser.parse(c.pattern!, { tz, currentDate: new Date(after) })
    .next()
    .getTime();
}

/** The slots in [from, to), for tests and previews ("your next check-ins"). */
export function slotsBetween(c: Cadence, tz: string, from: number, to: number, offset = 0, max = 1_000): number[] {
  const out: number[] = [];
  let t = from - 1;
  while (out.length < max) {
    t = nextSlotAfter(c, tz, t, offset);
    if (t >= to) break;
    out.push(t);
  }
  return out;
}

export interface FireState {
  /** The latest slot that fired (epoch ms), and when it fired. */
  lastSlot: number | null;
  lastFiredAt: number | null;
}

export type FireDecision =
  | { fire: true; catchUp: boolean; again: boolean }
  | { fire: false; reason: 'older_slot' | 'caught_up' | 'next_slot_soon' };

/**
 * May the job for `slot`, running at `now`, fire?
 * - a slot older than one that already fired never fires (a stray late job);
 * - the same slot again (BullMQ is at-least-once) fires again: the event id is `checkin:<id>:<slot>`, so ingress
 *   and the consumed-ids table drop the duplicate — never two messages, and never a lost one after a crash;
 * - on time (late <= window): fires;
 * - late (downtime): one catch-up at most — not if anything fired since the slot was due (a second stale job), and
 *   not if the regular next slot is within the window anyway (no two check-ins minutes apart).
 */
export function decideFire(
  s: FireState,
  slot: number,
  now: number,
  windowMs: number,
  nextSlot: number | null,
): FireDecision {
  if (s.lastSlot !== null && slot < s.lastSlot) return { fire: false, reason: 'older_slot' };
  if (s.lastSlot === slot) return { fire: true, catchUp: false, again: true };
  if (now - slot <= windowMs) return { fire: true, catchUp: false, again: false };
  if (s.lastFiredAt !== null && s.lastFiredAt >= slot) return { fire: false, reason: 'caught_up' };
  if (nextSlot !== null && nextSlot - now <= windowMs) return { fire: false, reason: 'next_slot_soon' };
  return { fire: true, catchUp: true, again: false };
}

/** A short local time for the check-in event text: "Mon 09:00 (Europe/Berlin)". */
export function localStamp(tz: string, at: Date): string {
  return `${DateTime.fromJSDate(at, { zone: tz }).toFormat('ccc yyyy-LL-dd HH:mm')} (${tz})`;
}
