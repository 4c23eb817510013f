/**
 * Discord shards across gateway replicas that are separate OS processes (the real entry point), against the loopback
 * fake Discord: 4 recommended shards over 2 then 3 gateway replicas, one replica SIGKILLed, its shards taken over
 * within the lease TTL with every shard held by exactly one replica, and a message on each shard answered once.
 * Prints the figures (shards per replica, takeover time after the kill).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FakeDiscord, IDS, createSigner, mentioning, shardGuild } from '../fakes/discord/index.js';
import { spawnRole, type RoleProcess } from '../helpers/processes.js';
import { cleanRedisPrefix, createTestDatabase, REDIS_URL, uniqueName, type TestDatabase } from '../helpers/services.js';
import { sleep, waitFor } from '../helpers/wait.js';

const SHARDS = 4;
const TTL_MS = 3_000;
const START_MS = 90_000;

let db: TestDatabase;
let fake: FakeDiscord;
const prefix = uniqueName('dshards');
const procs: RoleProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  fake = await new FakeDiscord().start();
  fake.echoOwnMessages = true; // the bot sees its own replies come back, as on Discord, and must drop them
  fake.gateway.recommendedShards = SHARDS;
  fake.gateway.maxConcurrency = SHARDS;
  fake.gateway.heartbeatIntervalMs = 500; // latency figures show up quickly
});
afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill('SIGKILL')));
  await fake?.stop();
  await cleanRedisPrefix(prefix);
  await db?.drop();
});

interface ReadyShard {
  id: number;
  state: string;
  latencyMs: number | null;
  resumes: number;
}

async function shardsOf(p: RoleProcess): Promise<ReadyShard[]> {
  try {
    const body = (await (await fetch(`${p.url}/readyz`)).json()) as {
      channels: { discord?: { shards?: ReadyShard[] } };
    };
    return body.channels.discord?.shards ?? [];
  } catch {
    return []; // a killed replica holds nothing
  }
}

/** Shards held (up) per replica when every shard is held by exactly one of them, else undefined. */
async function coverage(replicas: RoleProcess[]): Promise<number[][] | undefined> {
  const held = await Promise.all(
    replicas.map(async (p) => (await shardsOf(p)).filter((s) => s.state === 'up').map((s) => s.id)),
  );
  const all = held.flat().sort((a, b) => a - b);
  return all.join() === Array.from({ length: SHARDS }, (_, i) => i).join() ? held : undefined;
}

it('spreads 4 shards over 2 then 3 gateway processes, survives a SIGKILL, answers a message on each shard once', async () => {
  const signer = createSigner();
  const guilds = Array.from({ length: SHARDS }, (_, s) => shardGuild(s, SHARDS));
  for (const g of guilds) fake.gateway.addGuild(g.guild);
  const env = {
    DATABASE_URL: db.url,
    REDIS_URL,
    KEY_PREFIX: prefix,
    OFFLINE_MODEL: 'true',
    COMMANDS_REGISTER_ON_START: 'false',
    DISCORD_TOKEN: fake.token,
    DISCORD_APPLICATION_ID: IDS.app,
    DISCORD_PUBLIC_KEY: signer.publicKeyHex,
    DISCORD_API_URL: fake.apiUrl,
    DISCORD_LEASE_TTL_MS: String(TTL_MS),
  };
  // One after another: several tsx start-ups at once on a small, shared machine can exceed the start timeout.
  const g1 = await spawnRole('gateway', env, START_MS);
  procs.push(g1);
  const g2 = await spawnRole('gateway', env, START_MS);
  procs.push(g2);
  procs.push(await spawnRole('worker', env, START_MS));

  const two = await waitFor(
    async () => {
      const c = await coverage([g1, g2]);
      return c?.every((h) => h.length === 2) && c;
    },
    '4 shards over 2 replicas',
    60_000,
  );
  console.log(`[figure] 2 replicas: shards per replica ${JSON.stringify(two)}`);

  const g3 = await spawnRole('gateway', env, START_MS);
  procs.push(g3);
  const gateways = [g1, g2, g3];
  const three = await waitFor(
    async () => {
      const c = await coverage(gateways);
      return (
        c &&
        c
          .map((h) => h.length)
          .sort()
          .join() === '1,1,2' &&
        c
      );
    },
    '4 shards over 3 replicas',
    60_000,
  );
  console.log(`[figure] 3 replicas: shards per replica ${JSON.stringify(three)}`);
  for (let i = 0; i < SHARDS; i++) expect(fake.gateway.maxLivePerShard.get(i), `shard ${i} held once`).toBe(1);

  // /metrics shows what this replica holds, with heartbeat latency per shard.
  const busiest = gateways[three.findIndex((h) => h.length === 2)]!;
  const metrics = await waitFor(async () => {
    const text = await (await fetch(`${busiest.url}/metrics`)).text();
    return (
      /gateway_shards_held\{platform="discord"\} 2/.test(text) && /gateway_shard_latency_seconds\{/.test(text) && text
    );
  }, 'shard metrics');
  expect(metrics).toMatch(/gateway_shard_resumes_total|gateway_shards_held/);

  // SIGKILL the replica holding two shards: no release, its leases have to expire.
  const survivors = gateways.filter((g) => g !== busiest);
  const killedAt = Date.now();
  await busiest.kill('SIGKILL');
  const after = await waitFor(
    async () => {
      const c = await coverage(survivors);
      return c?.every((h) => h.length === 2) && c;
    },
    'shards taken over after SIGKILL',
    TTL_MS * 4 + 10_000,
  );
  const takeoverMs = Date.now() - killedAt;
  console.log(
    `[figure] SIGKILL takeover: all ${SHARDS} shards up again on the survivors after ${takeoverMs} ms ` +
      `(lease TTL ${TTL_MS} ms); shards per replica ${JSON.stringify(after)}`,
  );
  expect(takeoverMs).toBeLessThan(TTL_MS * 4 + 5_000); // TTL + a renewal interval + identify; room for a loaded machine
  for (let i = 0; i < SHARDS; i++) expect(fake.gateway.maxLivePerShard.get(i), `shard ${i} held once`).toBe(1);

  // A message in each shard's guild is answered exactly once.
  for (const g of guilds) {
    fake.gateway.dispatch('MESSAGE_CREATE', mentioning({ guildId: g.guildId, channelId: g.channelId, content: 'hi' }));
  }
  for (const g of guilds) {
    await waitFor(() => fake.rest.contents(g.channelId).length >= 1, `answer in ${g.channelId}`, 30_000);
  }
  await sleep(1_500); // a second answer would show up now
  for (const [shard, g] of guilds.entries()) {
    expect(fake.rest.contents(g.channelId), `shard ${shard}: one answer`).toHaveLength(1);
  }
}, 420_000);
