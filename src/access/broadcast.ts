/**
 * `/broadcast <text>`: the text goes to every known DM conversation through the outbound path — one outbox row per
 * conversation (postAsBot), delivered by the normal delivery jobs, in turn order, with receipts and per-channel
 * pacing. Chosen over synthetic inbound events because a broadcast is the bot speaking, not a user writing: no
 * model run, no user item in anyone's session, no interplay with rate limits or pauses.
 *
 * Platform-wide limits (Telegram ~30 messages/s per bot, Discord's global 50 requests/s) are per-bot, not
 * per-channel, so the deliveries are spread out: the i-th conversation's delivery job starts i / BROADCAST_PER_SECOND
 * seconds later. Conversations of banned users, of platforms this gateway has no adapter for and of channels that
 * take no broadcasts (agent API threads) are skipped.
 */
import { and, eq, inArray } from 'drizzle-orm';
import type { AdapterRegistry } from '../core/registry.js';
import type { Db } from '../db/client.js';
import type { Queues } from '../queue/queues.js';
import { dmConversationsPage, postAsBot } from './conversations.js';
import { principalOf } from './policy.js';
import { accessUsers } from './schema.js';

export interface BroadcastDeps {
  db: Db;
  queues: Queues;
  adapters: AdapterRegistry;
  perSecond: number;
}

export interface BroadcastResult {
  queued: number;
  skipped: number;
  /** How long the fan-out will take to start every delivery. */
  spreadMs: number;
}

const PAGE = 200;

export async function broadcast(d: BroadcastDeps, broadcastId: string, markdown: string): Promise<BroadcastResult> {
  let after = '';
  let queued = 0;
  let skipped = 0;
  const gapMs = 1000 / d.perSecond;
  for (;;) {
    const page = await dmConversationsPage(d.db, after, PAGE);
    if (!page.length) break;
    after = page.at(-1)!.key;
    const principals = page.map((c) => principalOf(c.ref.platform, c.ref.user ?? c.ref.channel));
    const banned = new Set(
      (
        await d.db
          .select({ p: accessUsers.principal })
          .from(accessUsers)
          .where(and(inArray(accessUsers.principal, principals), eq(accessUsers.banned, true)))
      ).map((r) => r.p),
    );
    for (const [i, c] of page.entries()) {
      const adapter = d.adapters.get(c.ref.platform);
      if (!adapter || adapter.capabilities.broadcasts === false || banned.has(principals[i]!)) {
        skipped++;
        continue;
      }
      const r = await postAsBot(d.db, c.key, markdown, { id: `broadcast:${broadcastId}`, outcome: 'broadcast' });
      if (r !== 'posted') {
        skipped++;
        continue;
      }
      await d.queues.scheduleDelivery(c.key, Math.round(queued * gapMs));
      queued++;
    }
  }
  return { queued, skipped, spreadMs: Math.round(Math.max(0, queued - 1) * gapMs) };
}
