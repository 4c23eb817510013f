/**
 * Memory per extra bot in a gateway process: a Telegram fleet (adapters/kit/fleet.ts) grows from the environment's
 * bot to N more against the loopback Bot API fake, in webhook mode (a route handler and an API client per bot) or
 * long polling (plus a lease and an open getUpdates each; needs Redis); or a fleet of N Discord applications
 * (`discord`), each with its own lease and discord.js gateway connection to its own loopback fake. Heap and RSS are
 * read after a full GC; the fakes run in the same process, so the server side of each connection counts too (an
 * upper bound).
 *
 *   node --expose-gc --import tsx bench/bots.ts [N=200] [webhook|polling|discord]
 */
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { createDiscordAdapter, discordShape } from '../adapters/discord/index.js';
import { createBotFleet, type BotFleet } from '../adapters/kit/fleet.js';
import { createTelegramAdapter, telegramShape } from '../adapters/telegram/index.js';
import type { IngressSink } from '../src/core/adapter.js';
import { createSigner, FakeDiscord } from '../test/fakes/discord/index.js';
import { FakeBotApi, startFakeBotApi } from '../test/fakes/telegram/fake-bot-api.js';

const n = Number(process.argv[2] ?? 200);
const mode = (process.argv[3] ?? 'webhook') as 'webhook' | 'polling' | 'discord';
const maybeGc = (globalThis as { gc?: () => void }).gc;
if (!maybeGc) throw new Error('run with node --expose-gc');
const gc: () => void = maybeGc;

const log = pino({ level: 'silent' });
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const keyPrefix = `benchbots${Date.now().toString(36)}`;
interface Spec {
  name: string;
  tenant: string;
  version: string;
  token: string;
}
let listed: Spec[] = [];
const closers: Array<() => Promise<void>> = [];

/** Telegram: the environment's bot plus N more behind one Bot API fake. */
async function telegramFleet(): Promise<{ fleet: BotFleet; specs: Spec[] }> {
  const front = await startFakeBotApi();
  closers.push(() => front.close());
  const specs = Array.from({ length: n }, (_, i) => {
    const id = 700_000_000 + i;
    const token = `${id}:BENCH-token_${i}`;
    front.serveAlso(new FakeBotApi(token, { id, username: `bench_${i}_bot` }));
    return { name: `b${i}`, tenant: String(id), version: '1', token };
  });
  const shared = { apiRoot: front.url, redis, keyPrefix, pollTimeoutSeconds: 1, log };
  const fleet = createBotFleet<Spec>({
    platform: 'telegram',
    primary: {
      adapter: createTelegramAdapter({ ...shared, token: front.token, mode: 'webhook', webhookSecret: 'bench_secret' }),
      tenant: front.token.split(':')[0]!,
    },
    shape: telegramShape,
    list: async () => listed,
    build: (s) =>
      createTelegramAdapter({
        ...shared,
        token: s.token,
        mode: mode === 'polling' ? 'polling' : 'webhook',
        ...(mode === 'webhook' ? { webhookSecret: 'bench_secret' } : {}),
      }),
    syncMs: 60_000,
    log,
  });
  return { fleet, specs };
}

/** Discord: N applications, each with its own gateway connection (a discord.js client) to its own fake. */
async function discordFleet(): Promise<{ fleet: BotFleet; specs: Spec[] }> {
  const front = await new FakeDiscord().start();
  closers.push(() => front.stop());
  const signer = createSigner();
  const specs: Spec[] = [];
  for (let i = 0; i < n; i++) {
    const id = String(1_300_000_000_000_000_000n + BigInt(i));
    const bot = { id, username: `bench${i}`, discriminator: '0', global_name: null, avatar: null };
    const fake = front.serveAlso(await new FakeDiscord(`bench-discord-token.${i}`, bot).start());
    closers.push(() => fake.stop());
    specs.push({ name: `d${i}`, tenant: id, version: '1', token: fake.token });
  }
  const fleet = createBotFleet<Spec>({
    platform: 'discord',
    shape: discordShape,
    list: async () => listed,
    build: (s) =>
      createDiscordAdapter({
        token: s.token,
        applicationId: s.tenant,
        publicKey: signer.publicKeyHex,
        apiUrl: front.apiUrl,
        redis,
        keyPrefix,
        shardCount: 1,
        scope: s.tenant,
        log,
      }),
    syncMs: 60_000,
    log,
  });
  return { fleet, specs };
}

const { fleet, specs } = mode === 'discord' ? await discordFleet() : await telegramFleet();
const sink = { log, submit: async () => 'accepted', claim: async () => true } as unknown as IngressSink;
await fleet.start!(sink);

const measure = async () => {
  await new Promise((r) => setTimeout(r, 1_500)); // pollers settle into their first getUpdates, gateways connect
  gc();
  gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss };
};
const before = await measure();
listed = specs;
const started = Date.now();
await fleet.sync();
const syncMs = Date.now() - started;
for (let t = Date.now(); Date.now() - t < 60_000; await new Promise((r) => setTimeout(r, 200))) {
  if (fleet.members().every((b) => b.health.state === 'up')) break; // gateways connected (webhook bots at once)
}
const after = await measure();
const up = fleet.members().filter((b) => b.health.state === 'up').length;
const kb = (b: number) => Math.round(b / 1024);
console.log(
  JSON.stringify({
    mode,
    bots: n,
    up,
    syncMs,
    heapPerBotKB: kb((after.heap - before.heap) / n),
    rssPerBotKB: kb((after.rss - before.rss) / n),
  }),
);
await fleet.stop!();
for (const close of closers) await close();
const keys = await redis.keys(`${keyPrefix}:*`);
if (keys.length) await redis.del(...keys);
redis.disconnect();
