/**
 * "When" for reminders, read in the user's timezone: a small parser for the phrasings people (and the offline
 * model) use, on top of luxon. No natural-language date library is installed (chrono-node would be the choice; it
 * needs `npm install`, see the report), and the set is deliberately small and predictable:
 *
 *   in 2 seconds | in 5 min | in an hour | in 3 days | in 2 weeks
 *   today at 17:30 | tomorrow at 9 | tomorrow at 9am | tonight | tomorrow (= 09:00) | at 9pm (today, else tomorrow)
 *   monday at 10 | on friday (= 09:00, the next one)
 *   2025-06-01 09:00 | 2025-06-01T09:00 (local) | 2025-06-01T07:00:00Z (absolute, any ISO 8601 with offset)
 *
 * Wall-clock times that do not exist (spring-forward gap) move forward with the clock; ambiguous ones (fall-back)
 * take the first occurrence — luxon's rules.
 */
import { DateTime } from 'luxon';

export type ParsedWhen = { ok: true; at: Date } | { ok: false; error: string };

const UNITS: Record<string, 'seconds' | 'minutes' | 'hours' | 'days' | 'weeks'> = {
  s: 'seconds',
  sec: 'seconds',
  secs: 'seconds',
  second: 'seconds',
  seconds: 'seconds',
  m: 'minutes',
  min: 'minutes',
  mins: 'minutes',
  minute: 'minutes',
  minutes: 'minutes',
  h: 'hours',
  hr: 'hours',
  hrs: 'hours',
  hour: 'hours',
  hours: 'hours',
  d: 'days',
  day: 'days',
  days: 'days',
  w: 'weeks',
  week: 'weeks',
  weeks: 'weeks',
};
const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
const DEFAULT_HOUR = 9;

/** "9", "9:30", "9am", "9:30 pm", "21:00" -> {hour, minute}; null if not a time. */
export function parseClock(s: string): { hour: number; minute: number } | null {
  const m = /^(\d{1,2})(?::(\d{2}))?\s*(am|pm)?$/i.exec(s.trim());
  if (!m) return null;
  let hour = Number(m[1]);
  const minute = m[2] ? Number(m[2]) : 0;
  const ampm = m[3]?.toLowerCase();
  if (minute > 59) return null;
  if (ampm) {
    if (hour < 1 || hour > 12) return null;
    hour = (hour % 12) + (ampm === 'pm' ? 12 : 0);
  } else if (hour > 23) return null;
  return { hour, minute };
}

function at(day: DateTime, clock: { hour: number; minute: number }): DateTime {
  return day.set({ hour: clock.hour, minute: clock.minute, second: 0, millisecond: 0 });
}

export function parseWhen(input: string, tz: string, now: Date): ParsedWhen {
  const text = input
    .trim()
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .replace(/[.!?]$/, '');
  const local = DateTime.fromJSDate(now, { zone: tz });
  if (!local.isValid) return { ok: false, error: `unknown timezone "${tz}"` };
  const done = (dt: DateTime): ParsedWhen =>
    dt.isValid ? { ok: true, at: dt.toJSDate() } : { ok: false, error: `cannot read "${input}" as a time` };

  const rel = /^in (an?|\d+(?:\.\d+)?) ([a-z]+)$/.exec(text);
  if (rel) {
    const unit = UNITS[rel[2]!];
    if (!unit) return { ok: false, error: `unknown unit "${rel[2]}"` };
    const n = rel[1]!.startsWith('a') ? 1 : Number(rel[1]);
    return done(local.plus({ [unit]: n }));
  }

  const iso = DateTime.fromISO(input.trim().replace(' ', 'T'), { zone: tz, setZone: false });
  if (/^\d{4}-\d{2}-\d{2}/.test(text) && iso.isValid) return done(iso);

  const dayWord =
    /^(?:(today|tomorrow|tonight)|(?:on |next )?(monday|tuesday|wednesday|thursday|friday|saturday|sunday))?\s*(?:at )?(.*)$/.exec(
      text,
    );
  if (!dayWord) return { ok: false, error: `cannot read "${input}" as a time` };
  const [, rel2, weekday, rest] = dayWord;
  const clockText = rest!.trim();
  const clock = clockText ? parseClock(clockText) : null;
  if (clockText && !clock) return { ok: false, error: `cannot read "${input}" as a time` };
  if (!rel2 && !weekday && !clock) return { ok: false, error: `cannot read "${input}" as a time` };

  if (rel2 === 'tonight') return done(at(local, clock ?? { hour: 20, minute: 0 }));
  if (rel2 === 'today') return done(at(local, clock ?? { hour: DEFAULT_HOUR, minute: 0 }));
  if (rel2 === 'tomorrow') return done(at(local.plus({ days: 1 }), clock ?? { hour: DEFAULT_HOUR, minute: 0 }));
  if (weekday) {
    const target = WEEKDAYS.indexOf(weekday) + 1;
    let days = (target - local.weekday + 7) % 7;
    const c = clock ?? { hour: DEFAULT_HOUR, minute: 0 };
    if (days === 0 && at(local, c) <= local) days = 7;
    return done(at(local.plus({ days }), c));
  }
  // A bare time: today if still ahead, else tomorrow.
  const today = at(local, clock!);
  return done(today > local ? today : at(local.plus({ days: 1 }), clock!));
}
