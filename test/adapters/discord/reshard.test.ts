import { describe, expect, it } from 'vitest';
import { shardLeaseKeys } from '../../../src/queue/keys.js';
import { FakeDiscord, mentioning, shardGuild } from '../../fakes/discord/index.js';
import { deleteKeys, testPrefix, waitFor } from './helpers.js';
import { type DiscordReplica as Replica, discordReplica, replicaHarness, stopReplicas } from './replica.js';

const TTL = 900;
const { admin, unhandled } = replicaHarness();

const replica = (fake: FakeDiscord, prefix: string, extra: { shardCount?: number } = {}) =>
  discordReplica(fake, prefix, {
    leaseTtlMs: TTL,
    identifyWindowMs: 300,
    // A fatal close waits a minute before its own retry: only the resharding can bring the bot back in time.
    gatewayTuning: { retryBaseMs: 100, retryMaxMs: 400, connectTimeoutMs: 8000, fatalRetryMs: 60_000 },
    ...extra,
  });

/** Every shard of `count` held (up) by exactly one replica, each replica running `count`. */
function covered(rs: Replica[], count: number): boolean {
  const all = rs.flatMap((r) => r.shards()).sort((a, b) => a - b);
  return (
    rs.every((r) => r.adapter.health().shardCount === count && r.adapter.health().state !== 'down') &&
    rs.every((r) => (r.adapter.health().shards ?? []).every((s) => s.state === 'up')) &&
    all.join() === Array.from({ length: count }, (_, i) => i).join()
  );
}

async function cleanup(rs: Replica[], fake: FakeDiscord, prefix: string) {
  await stopReplicas(rs);
  await fake.stop();
  await deleteKeys(admin, prefix);
}

const neverTwice = (fake: FakeDiscord) =>
  [...fake.gateway.maxLivePerShard.entries()].filter(([, n]) => n > 1).map(([shard]) => shard);

describe('shard count agreement', () => {
  it('later replicas run the stored count; an override on one replica is applied by all', async () => {
    const prefix = testPrefix('shardagree');
    const fake = await new FakeDiscord().start();
    fake.gateway.recommendedShards = 2;
    fake.gateway.maxConcurrency = 4;
    const rs: Replica[] = [];
    try {
      rs.push(replica(fake, prefix));
      await rs[0]!.adapter.start!(rs[0]!.sink);
      await waitFor(() => covered(rs, 2), '2 shards on the first replica', 20_000);
      expect(await admin.get(shardLeaseKeys(prefix, 'discord', fake.token).count)).toBe('2');

      fake.gateway.recommendedShards = 3; // Discord's advice changed; the deployment keeps what it agreed on
      rs.push(replica(fake, prefix));
      await rs[1]!.adapter.start!(rs[1]!.sink);
      await waitFor(() => covered(rs, 2) && rs.every((r) => r.shards().length === 1), '2 shards over 2', 20_000);
      expect(fake.gateway.identifies.filter((x) => x.shard[1] !== 2)).toEqual([]);

      rs.push(replica(fake, prefix, { shardCount: 4 })); // an operator rolls out DISCORD_SHARD_COUNT=4
      await rs[2]!.adapter.start!(rs[2]!.sink);
      await waitFor(() => covered(rs, 4), '4 shards over 3 replicas, all on the new count', 30_000);
      expect(await admin.get(shardLeaseKeys(prefix, 'discord', fake.token).count)).toBe('4');
      expect(fake.gateway.liveSessions().every((s) => s.shard[1] === 4)).toBe(true);
      expect(neverTwice(fake), 'shards connected twice at once').toEqual([]);
      expect(unhandled.errors).toEqual([]);
    } finally {
      await cleanup(rs, fake, prefix);
    }
  });

  it('a close 4011 mid-run: Discord is asked again, the new count stored and every replica reshards', async () => {
    const prefix = testPrefix('shard4011');
    const fake = await new FakeDiscord().start();
    fake.gateway.maxConcurrency = 4;
    const guild = shardGuild(1, 2); // on shard 1 once there are two
    fake.gateway.addGuild(guild.guild);
    const rs = [replica(fake, prefix), replica(fake, prefix)];
    try {
      for (const r of rs) await r.adapter.start!(r.sink);
      await waitFor(() => covered(rs, 1), 'one connection, held by one replica', 20_000);

      // The bot outgrew one connection: Discord now wants 2 shards and closes the session with 4011.
      fake.gateway.recommendedShards = 2;
      fake.gateway.requiredShards = 2;
      const at = Date.now();
      fake.gateway.closeSessions(4011);
      await waitFor(() => covered(rs, 2) && rs.every((r) => r.shards().length === 1), '2 shards over 2', 30_000);
      console.log(`[figure] close 4011 to both new shards up: ${Date.now() - at} ms`);
      expect(await admin.get(shardLeaseKeys(prefix, 'discord', fake.token).count)).toBe('2');
      expect(neverTwice(fake), 'shards connected twice at once').toEqual([]);

      // The guild now on shard 1 is heard.
      const m = mentioning({ guildId: guild.guildId, channelId: guild.channelId, content: 'after resharding' });
      fake.gateway.dispatch('MESSAGE_CREATE', m);
      await waitFor(
        () => rs.flatMap((r) => r.sink.events).find((e) => e.id === `discord:${m.id}`),
        'the message on shard 1',
      );
      expect(rs.flatMap((r) => r.sink.events).filter((e) => e.id === `discord:${m.id}`)).toHaveLength(1);
      expect(unhandled.errors).toEqual([]);
    } finally {
      await cleanup(rs, fake, prefix);
    }
  });
});
