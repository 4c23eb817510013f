/**
 * Memory per extra bot in a gateway process: a Telegram fleet (adapters/kit/fleet.ts) grows from the environment's
 * bot to N more against the loopback Bot API fake, in webhook mode (a route handler and an API client per bot) or
 * long polling (plus a lease and an open getUpdates each; needs Redis). Heap and RSS are read after a full GC.
 *
 *   node --expose-gc --import tsx bench/bots.ts [N=200] [webhook|polling]
 */
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { createBotFleet } from '../adapters/kit/fleet.js';
import { createTelegramAdapter, telegramShape } from '../adapters/telegram/index.js';
import type { IngressSink } from '../src/core/adapter.js';
import { FakeBotApi, startFakeBotApi } from '../test/fakes/telegram/fake-bot-api.js';

const n = Number(process.argv[2] ?? 200);
const mode = (process.argv[3] ?? 'webhook') as 'webhook' | 'polling';
const maybeGc = (globalThis as { gc?: () => void }).gc;
if (!maybeGc) throw new Error('run with node --expose-gc');
const gc: () => void = maybeGc;

const log = pino({ level: 'silent' });
const front = await startFakeBotApi();
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const keyPrefix = `benchbots${Date.now().toString(36)}`;
const specs = Array.from({ length: n }, (_, i) => {
  const id = 700_000_000 + i;
  const token = `${id}:BENCH-token_${i}`;
  front.serveAlso(new FakeBotApi(token, { id, username: `bench_${i}_bot` }));
  return { name: `b${i}`, tenant: String(id), version: '1', token };
});
let listed: typeof specs = [];
const shared = { apiRoot: front.url, redis, keyPrefix, pollTimeoutSeconds: 1, log };
const fleet = createBotFleet({
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
      mode,
      ...(mode === 'webhook' ? { webhookSecret: 'bench_secret' } : {}),
    }),
  syncMs: 60_000,
  log,
});
const sink = { log, submit: async () => 'accepted', claim: async () => true } as unknown as IngressSink;
await fleet.start!(sink);

const measure = async () => {
  await new Promise((r) => setTimeout(r, 1_500)); // pollers settle into their first getUpdates
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
await front.close();
const keys = await redis.keys(`${keyPrefix}:*`);
if (keys.length) await redis.del(...keys);
redis.disconnect();
