/**
 * The window the "exactly one reply" checks wait (test/helpers/settle.ts) is longer than the outbound pacer's
 * spacing for every platform and kind of conversation: a duplicate delayed by the pacer still lands in it.
 * (The checks used to wait 300-800 ms after the first reply, less than any paced platform's 1-3 s.)
 */
import { expect, it } from 'vitest';
import { DISCORD_MIN_SEND_INTERVAL_MS } from '../../adapters/discord/limits.js';
import { LOCAL_LIMITS } from '../../adapters/local/limits.js';
import { SLACK_MIN_SEND_INTERVAL_MS } from '../../adapters/slack/limits.js';
import { paceMs } from '../../adapters/telegram/limits.js';
import { DELIVERY_MARGIN_MS, duplicateWindowMs } from '../helpers/settle.js';

it('waits past each platform pacing interval plus a margin', () => {
  const tg = (kind: 'dm' | 'group') => paceMs({ platform: 'telegram', tenant: 't', channel: 'c', kind });
  const cases: [Parameters<typeof duplicateWindowMs>[0], 'dm' | 'group', number][] = [
    ['slack', 'dm', SLACK_MIN_SEND_INTERVAL_MS],
    ['slack', 'group', SLACK_MIN_SEND_INTERVAL_MS],
    ['discord', 'dm', DISCORD_MIN_SEND_INTERVAL_MS],
    ['discord', 'group', DISCORD_MIN_SEND_INTERVAL_MS],
    ['telegram', 'dm', tg('dm')],
    ['telegram', 'group', tg('group')],
    ['local', 'dm', LOCAL_LIMITS.minSendIntervalMs],
  ];
  for (const [platform, kind, interval] of cases) {
    expect(duplicateWindowMs(platform, kind), `${platform} ${kind}`).toBeGreaterThanOrEqual(
      interval + DELIVERY_MARGIN_MS,
    );
  }
  expect(DELIVERY_MARGIN_MS).toBeGreaterThanOrEqual(500);
  expect(tg('group')).toBeGreaterThan(tg('dm')); // the group window really is the longer one
});
