/** Reminder times are read in the user's timezone, on fixed dates (DST included). */
import { describe, expect, it } from 'vitest';
import { schedulerOfflineTurn } from '../../src/scheduler/offline.js';
import { parseWhen } from '../../src/scheduler/when.js';

const at = (input: string, tz: string, now: string) => {
  const r = parseWhen(input, tz, new Date(now));
  if (!r.ok) throw new Error(r.error);
  return r.at.toISOString();
};

describe('parseWhen', () => {
  it('"tomorrow at 9" is 09:00 on the user\'s clock, also when tomorrow is the DST change', () => {
    expect(at('tomorrow at 9', 'Europe/Berlin', '2024-03-30T10:00:00Z')).toBe('2024-03-31T07:00:00.000Z');
    expect(at('tomorrow at 9', 'Europe/Berlin', '2024-03-29T10:00:00Z')).toBe('2024-03-30T08:00:00.000Z');
    expect(at('tomorrow at 9', 'America/New_York', '2024-11-02T14:00:00Z')).toBe('2024-11-03T14:00:00.000Z');
  });

  it('a wall time the spring change skips moves forward with the clock', () => {
    expect(at('tomorrow at 2:30', 'Europe/Berlin', '2024-03-30T10:00:00Z')).toBe('2024-03-31T01:30:00.000Z');
  });

  it('relative times, am/pm, bare times, weekdays and dates', () => {
    expect(at('in 2 seconds', 'UTC', '2024-05-01T10:00:00Z')).toBe('2024-05-01T10:00:02.000Z');
    expect(at('in an hour', 'UTC', '2024-05-01T10:00:00Z')).toBe('2024-05-01T11:00:00.000Z');
    expect(at('in 3 days', 'Europe/Berlin', '2024-03-29T10:00:00Z')).toBe('2024-04-01T09:00:00.000Z'); // same wall time
    expect(at('at 9pm', 'UTC', '2024-05-01T10:00:00Z')).toBe('2024-05-01T21:00:00.000Z');
    expect(at('9am', 'UTC', '2024-05-01T10:00:00Z')).toBe('2024-05-02T09:00:00.000Z'); // passed today: tomorrow
    expect(at('friday at 17:30', 'UTC', '2024-05-01T10:00:00Z')).toBe('2024-05-03T17:30:00.000Z'); // a Wednesday
    expect(at('on wednesday', 'UTC', '2024-05-01T10:00:00Z')).toBe('2024-05-08T09:00:00.000Z'); // today's 09:00 passed
    expect(at('tomorrow', 'Asia/Tokyo', '2024-05-01T10:00:00Z')).toBe('2024-05-02T00:00:00.000Z');
    expect(at('2025-06-01 09:00', 'Europe/Berlin', '2024-05-01T10:00:00Z')).toBe('2025-06-01T07:00:00.000Z');
    expect(at('2025-06-01T09:00:00Z', 'Europe/Berlin', '2024-05-01T10:00:00Z')).toBe('2025-06-01T09:00:00.000Z');
  });

  it('says what it could not read', () => {
    expect(parseWhen('whenever', 'UTC', new Date())).toMatchObject({
      ok: false,
      error: expect.stringMatching(/whenever/),
    });
    expect(parseWhen('in 3 fortnights', 'UTC', new Date())).toMatchObject({
      ok: false,
      error: expect.stringMatching(/unit/),
    });
    expect(parseWhen('tomorrow at 25', 'UTC', new Date())).toMatchObject({ ok: false });
  });
});

describe('offline model phrasings', () => {
  const tools = ['set_reminder', 'list_reminders', 'cancel_reminder', 'current_time'];

  it('turns "remind me <when> to <what>" into a set_reminder call', () => {
    expect(schedulerOfflineTurn(['remind me tomorrow at 9 to call Sam'], undefined, tools)).toEqual({
      call: { name: 'set_reminder', arguments: JSON.stringify({ text: 'call Sam', when: 'tomorrow at 9' }) },
    });
    expect(schedulerOfflineTurn(['[ann] please remind me in 2 seconds to stretch'], undefined, tools)).toMatchObject({
      call: { name: 'set_reminder', arguments: JSON.stringify({ text: 'stretch', when: 'in 2 seconds' }) },
    });
  });

  it('is silent on a check-in without a topic and speaks about the topic otherwise', () => {
    expect(schedulerOfflineTurn(['[check-in] Mon 2024-05-06 09:00 (UTC)'], undefined, tools)).toEqual({ text: '' });
    expect(
      schedulerOfflineTurn(['[check-in] Mon 2024-05-06 09:00 (UTC)\nTopic: the gym plan'], undefined, tools),
    ).toEqual({ text: 'Checking in: the gym plan' });
  });

  it('leaves everything else to the model as before', () => {
    expect(schedulerOfflineTurn(['hello'], undefined, tools)).toBeNull();
    expect(
      schedulerOfflineTurn(
        ['what time is it?'],
        { type: 'function_call_result', name: 'current_time', output: 'x' },
        tools,
      ),
    ).toBeNull();
  });
});
