/**
 * "Exactly one reply" checks: after the first reply arrived, a wrongly sent second one would come no sooner than
 * the outbound pacer lets a conversation send again (src/outbound/deliver.ts: the adapter's `paceMs(ref)` or
 * `limits.minSendIntervalMs`). Waiting less than that cannot see a duplicate, so wait for the pacer's interval of
 * that platform and conversation kind, plus a margin for the delivery job itself. Once per test, at the end.
 */
import { DISCORD_MIN_SEND_INTERVAL_MS } from '../../adapters/discord/limits.js';
import { LOCAL_LIMITS } from '../../adapters/local/limits.js';
import { SLACK_MIN_SEND_INTERVAL_MS } from '../../adapters/slack/limits.js';
import { paceMs as telegramPaceMs } from '../../adapters/telegram/limits.js';
import type { Platform } from '../../src/core/types.js';
import { sleep } from './wait.js';

/** Scheduling and running a delivery job, generous for a loaded machine. */
export const DELIVERY_MARGIN_MS = 1_000;

/** The pacer's spacing between two sends to one conversation of `platform` (`kind` matters on Telegram). */
export function pacerIntervalMs(platform: Platform, kind: 'dm' | 'group' = 'dm'): number {
  switch (platform) {
    case 'slack':
      return SLACK_MIN_SEND_INTERVAL_MS;
    case 'discord':
      return DISCORD_MIN_SEND_INTERVAL_MS;
    case 'telegram':
      return telegramPaceMs({ platform: 'telegram', tenant: 't', channel: kind === 'dm' ? '1' : '-1', kind });
    case 'local':
      return LOCAL_LIMITS.minSendIntervalMs;
  }
  return 0;
}

export function duplicateWindowMs(platform: Platform, kind: 'dm' | 'group' = 'dm'): number {
  return pacerIntervalMs(platform, kind) + DELIVERY_MARGIN_MS;
}

/** Wait long enough that a duplicate reply, had one been sent, would have arrived. */
export function settleForDuplicates(platform: Platform, kind: 'dm' | 'group' = 'dm'): Promise<unknown> {
  return sleep(duplicateWindowMs(platform, kind));
}
