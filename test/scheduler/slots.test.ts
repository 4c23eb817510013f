/** The scheduler's time logic on fixed dates: active hours and slots in a user's timezone, across DST changes. */
import { describe, expect, it } from 'vitest';
import {
  dailyPattern,
  dailyTimeOf,
  decideFire,
  describeCadence,
  everyOffset,
  inActiveHours,
  localDay,
  nextSlotAfter,
  slotsBetween,
  validateCadence,
} from '../../src/scheduler/slots.js';

const t = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

describe('active hours in the user timezone', () => {
  const day = { from: '08:00', to: '22:00' };

  it('reads the window on the local wall clock, so the same UTC time flips across the spring DST change', () => {
    // Europe/Berlin: 2024-03-31 02:00 CET -> 03:00 CEST. 06:30Z is 07:30 the day before, 08:30 the day after.
    expect(inActiveHours(day, 'Europe/Berlin', new Date('2024-03-30T06:30:00Z'))).toBe(false);
    expect(inActiveHours(day, 'Europe/Berlin', new Date('2024-03-31T06:30:00Z'))).toBe(true);
  });

  it('and the other way round at the autumn change (America/New_York, 2024-11-03)', () => {
    const ny = { from: '08:00', to: '20:00' };
    expect(inActiveHours(ny, 'America/New_York', new Date('2024-11-02T12:30:00Z'))).toBe(true); // 08:30 EDT
    expect(inActiveHours(ny, 'America/New_York', new Date('2024-11-03T12:30:00Z'))).toBe(false); // 07:30 EST
    expect(inActiveHours(ny, 'America/New_York', new Date('2024-11-03T13:30:00Z'))).toBe(true); // 08:30 EST
  });

  it('supports windows that wrap midnight, and no window means any time', () => {
    const night = { from: '22:00', to: '06:00' };
    expect(inActiveHours(night, 'UTC', new Date('2024-05-01T23:00:00Z'))).toBe(true);
    expect(inActiveHours(night, 'UTC', new Date('2024-05-01T05:59:00Z'))).toBe(true);
    expect(inActiveHours(night, 'UTC', new Date('2024-05-01T12:00:00Z'))).toBe(false);
    expect(inActiveHours(null, 'UTC', new Date('2024-05-01T03:00:00Z'))).toBe(true);
    expect(inActiveHours(day, 'Asia/Tokyo', new Date('2024-05-01T23:30:00Z'))).toBe(true); // 08:30 JST
  });

  it('counts the token budget per local day', () => {
    expect(localDay('Pacific/Auckland', new Date('2024-05-01T13:00:00Z'))).toBe('2024-05-02');
    expect(localDay('America/Los_Angeles', new Date('2024-05-01T03:00:00Z'))).toBe('2024-04-30');
  });
});

describe('slots', () => {
  it('a daily 09:00 check-in stays at 09:00 local through the DST change: 08:00Z, then 07:00Z', () => {
    const slots = slotsBetween(
      { pattern: dailyPattern('09:00') },
      'Europe/Berlin',
      t('2024-03-29T00:00:00Z'),
      t('2024-04-02T00:00:00Z'),
    );
    expect(slots.map(iso)).toEqual([
      '2024-03-29T08:00:00.000Z',
      '2024-03-30T08:00:00.000Z',
      '2024-03-31T07:00:00.000Z',
      '2024-04-01T07:00:00.000Z',
    ]);
  });

  it('a time the spring change skips (02:30) fires once that day, not zero times', () => {
    const slots = slotsBetween(
      { pattern: '30 2 * * *' },
      'Europe/Berlin',
      t('2024-03-30T12:00:00Z'),
      t('2024-04-01T12:00:00Z'),
    );
    expect(slots.map(iso)).toEqual(['2024-03-31T01:30:00.000Z', '2024-04-01T00:30:00.000Z']);
  });

  it('a time the autumn change repeats (01:30) fires once that day, not twice', () => {
    const slots = slotsBetween(
      { pattern: '30 1 * * *' },
      'America/New_York',
      t('2024-11-02T12:00:00Z'),
      t('2024-11-04T12:00:00Z'),
    );
    expect(slots.map(iso)).toEqual(['2024-11-03T05:30:00.000Z', '2024-11-04T06:30:00.000Z']);
  });

  it('interval cadences are spread by a stable per-check-in offset, never 0 (0 would fire on creation)', () => {
    const every = 3_600_000;
    const offsets = ['a', 'b', 'c', 'd'].map((id) => everyOffset(id, every));
    expect(new Set(offsets).size).toBe(4);
    for (const o of offsets) expect(o).toBeGreaterThan(0);
    expect(everyOffset('a', every)).toBe(offsets[0]);
    const next = nextSlotAfter({ everyMs: every }, 'UTC', t('2024-05-01T10:00:00Z'), offsets[0]);
    expect(next - t('2024-05-01T10:00:00Z')).toBe(offsets[0]);
  });

  it('validates cadences with messages a user can act on', () => {
    expect(() => validateCadence({ pattern: 'every day' })).toThrow(/invalid cron pattern/);
    expect(() => validateCadence({ everyMs: 10 })).toThrow(/at least 1000/);
    expect(() => validateCadence({})).toThrow(/needs a cron pattern or an interval/);
    expect(dailyPattern('7:05')).toBe('5 7 * * *');
    expect(() => dailyPattern('25:00')).toThrow();
  });

  it('describes cadences for people (what /checkin shows)', () => {
    expect(dailyTimeOf(dailyPattern('7:05'))).toBe('07:05');
    expect(dailyTimeOf('0 9 * * 1')).toBeUndefined();
    expect(describeCadence({ pattern: '30 9 * * *' }, 'Europe/Berlin')).toBe('daily 09:30 (Europe/Berlin)');
    expect(describeCadence({ pattern: '0 9 * * 1' }, 'UTC')).toBe('cron 0 9 * * 1 (UTC)');
    expect(describeCadence({ everyMs: 7_200_000 }, 'UTC')).toBe('every 2h');
  });
});

describe('fire decision: no double fire, at most one catch-up', () => {
  const windowMs = 10 * 60_000;
  const slot = t('2024-05-01T09:00:00Z');
  const fresh = { lastSlot: null, lastFiredAt: null };

  it('fires on time, and a repeat of the same slot goes through again (the event id dedupes it)', () => {
    expect(decideFire(fresh, slot, slot + 300, windowMs, slot + 86_400_000)).toEqual({
      fire: true,
      catchUp: false,
      again: false,
    });
    expect(decideFire({ lastSlot: slot, lastFiredAt: slot + 300 }, slot, slot + 5_000, windowMs, null)).toMatchObject({
      fire: true,
      again: true,
    });
  });

  it('never fires a slot older than one that fired', () => {
    expect(decideFire({ lastSlot: slot, lastFiredAt: slot }, slot - 86_400_000, slot + 1000, windowMs, null)).toEqual({
      fire: false,
      reason: 'older_slot',
    });
  });

  it('after downtime: one catch-up, then later stale slots are dropped', () => {
    const now = slot + 3 * 3_600_000;
    const first = decideFire(fresh, slot, now, windowMs, slot + 86_400_000);
    expect(first).toEqual({ fire: true, catchUp: true, again: false });
    const second = decideFire(
      { lastSlot: slot, lastFiredAt: now },
      slot + 3_600_000,
      now + 1_000,
      windowMs,
      slot + 86_400_000,
    );
    expect(second).toEqual({ fire: false, reason: 'caught_up' });
  });

  it('skips the catch-up when the regular slot is due within the window anyway', () => {
    const now = slot + 3_600_000 - 60_000; // hourly, 59 min late: the next slot is in a minute
    expect(decideFire(fresh, slot, now, windowMs, slot + 3_600_000)).toEqual({ fire: false, reason: 'next_slot_soon' });
  });
});
