import { describe, expect, it } from 'vitest';
import { registry } from '../../../src/observability/metrics.js';
import { quotaOf } from '../../../src/queue/shard-leases.js';
import { FakeDiscord, IDS, mentioning, shardGuild, shardOf } from '../../fakes/discord/index.js';
import { deleteKeys, testPrefix, waitFor } from './helpers.js';
import { type DiscordReplica as Replica, discordReplica, replicaHarness, stopReplicas } from './replica.js';

const TTL = 900;
const WINDOW = 1_000;
const { admin, unhandled } = replicaHarness();

const replica = (fake: FakeDiscord, prefix: string, extra: { shardCount?: number } = {}) =>
  discordReplica(fake, prefix, {
    leaseTtlMs: TTL,
    identifyWindowMs: WINDOW,
    gatewayTuning: { retryBaseMs: 100, retryMaxMs: 400, connectTimeoutMs: 8000 },
    ...extra,
  });

/** Every shard held (up) by exactly one replica, with the given shares. */
function balanced(rs: Replica[], count: number, shares: number[]): boolean {
  const held = rs.map((r) => r.shards());
  const all = held.flat().sort((a, b) => a - b);
  const up = rs.every((r) => (r.adapter.health().shards ?? []).every((s) => s.state === 'up'));
  return (
    up &&
    all.join() === Array.from({ length: count }, (_, i) => i).join() &&
    held
      .map((h) => h.length)
      .sort()
      .join() === [...shares].sort().join()
  );
}

describe('quotaOf', () => {
  it('shares 4 shards as 2+2 over two replicas and 2+1+1 over three, always adding up', () => {
    expect([0, 1].map((i) => quotaOf(4, 2, i))).toEqual([2, 2]);
    expect([0, 1, 2].map((i) => quotaOf(4, 3, i))).toEqual([2, 1, 1]);
    for (let n = 1; n <= 7; n++) {
      expect(Array.from({ length: n }, (_, i) => quotaOf(5, n, i)).reduce((a, b) => a + b, 0)).toBe(5);
    }
  });
});

describe('discord shards over replicas', () => {
  it('runs the recommended 4 shards over 2 then 3 replicas, each shard held once, messages routed by shard', async () => {
    const prefix = testPrefix('shards');
    const fake = await new FakeDiscord().start();
    fake.gateway.recommendedShards = 4;
    fake.gateway.maxConcurrency = 2;
    const guilds = [0, 1, 2, 3].map((s) => shardGuild(s, 4));
    for (const g of guilds) fake.gateway.addGuild(g.guild);
    const rs: Replica[] = [];
    try {
      rs.push(replica(fake, prefix), replica(fake, prefix));
      for (const r of rs) await r.adapter.start!(r.sink);
      await waitFor(() => balanced(rs, 4, [2, 2]), '4 shards over 2 replicas', 20_000);
      expect(rs[0]!.adapter.health()).toMatchObject({ state: 'up', shardCount: 4 });
      for (const i of [0, 1, 2, 3]) expect(fake.gateway.liveSessionsOf(i).map((s) => s.shard)).toEqual([[i, 4]]);

      // max_concurrency 2: at most one identify per bucket (shard % 2) per window, across both replicas (the fake sees
      // them with some jitter under load; without the shared throttle they would arrive together).
      for (const bucket of [0, 1]) {
        const at = fake.gateway.identifies.filter((x) => x.shard[0] % 2 === bucket).map((x) => x.at);
        for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(WINDOW / 2);
      }

      // A third replica joins: the others give shards back before it takes them.
      rs.push(replica(fake, prefix));
      await rs[2]!.adapter.start!(rs[2]!.sink);
      await waitFor(() => balanced(rs, 4, [2, 1, 1]), '4 shards over 3 replicas', 20_000);
      for (const i of [0, 1, 2, 3]) expect(fake.gateway.maxLivePerShard.get(i)).toBe(1);

      // A message in each shard's guild reaches the one replica holding that shard, once.
      for (const [shard, g] of guilds.entries()) {
        expect(shardOf(g.guildId, 4)).toBe(shard);
        const m = mentioning({ guildId: g.guildId, channelId: g.channelId, content: `on shard ${shard}` });
        fake.gateway.dispatch('MESSAGE_CREATE', m);
        const id = `discord:${m.id}`;
        const holder = rs.find((r) => r.shards().includes(shard))!;
        await waitFor(() => holder.sink.events.find((e) => e.id === id), `shard ${shard} message received`);
        expect(rs.flatMap((r) => r.sink.events).filter((e) => e.id === id)).toHaveLength(1);
      }

      // A replica stops: its shards move to the others, still one holder each.
      await rs[0]!.adapter.stop!();
      const rest = rs.slice(1);
      await waitFor(() => balanced(rest, 4, [2, 2]), 'back to 2+2 after a replica left', 20_000);
      for (const i of [0, 1, 2, 3]) expect(fake.gateway.maxLivePerShard.get(i)).toBe(1);
      expect(unhandled.errors).toEqual([]);
    } finally {
      await stopReplicas(rs);
      await fake.stop();
      await deleteKeys(admin, prefix);
    }
  });

  it('uses the configured shard count over the recommendation', async () => {
    const prefix = testPrefix('shardcount');
    const fake = await new FakeDiscord().start();
    fake.gateway.recommendedShards = 1;
    const r = replica(fake, prefix, { shardCount: 2 });
    try {
      await r.adapter.start!(r.sink);
      await waitFor(() => r.shards().length === 2 && r.adapter.health().state === 'up', 'both shards up', 20_000);
      expect(fake.gateway.identifies.map((x) => x.shard).sort()).toEqual([
        [0, 2],
        [1, 2],
      ]);
      // DMs arrive on shard 0 only, and reach the same ingress.
      const dm = mentioning({ guildId: null, channelId: IDS.dmChannel, content: 'a dm' });
      fake.gateway.dispatch('MESSAGE_CREATE', dm);
      await waitFor(() => r.sink.events.find((e) => e.id === `discord:${dm.id}`), 'dm received');
      expect(r.sink.events.filter((e) => e.id === `discord:${dm.id}`)).toHaveLength(1);

      // Dropped connections resume (not re-identify); health and /metrics count the resumes per shard.
      const identified = fake.gateway.identifies.length;
      fake.gateway.dropConnections(4000);
      await waitFor(
        () => r.adapter.health().state === 'up' && r.adapter.health().shards?.every((s) => s.resumes === 1),
        'both shards resumed',
        20_000,
      );
      expect(fake.gateway.identifies.length).toBe(identified);
      await waitFor(
        async () => /gateway_shard_resumes_total\{platform="discord",shard="1"\} 1/.test(await registry.metrics()),
        'resumes in /metrics',
      );
    } finally {
      await r.adapter.stop!();
      r.redis.disconnect();
      await fake.stop();
      await deleteKeys(admin, prefix);
    }
  });
});
