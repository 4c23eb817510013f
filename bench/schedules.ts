/**
 * Check-ins at scale: `npx tsx bench/schedules.ts [--schedules 100000] [--firing 1000] [--spread 20]`
 *
 * Runs the real app in this process (scheduler worker included) on a Redis of its own (spawned on a free port, so
 * its memory is ours alone to measure) and a scratch database on the test Postgres. Registers `--schedules`
 * check-ins through the same `setCheckin` the `/checkin` command calls (database row, then the BullMQ job
 * scheduler), in mixed timezones with daily times spread over the day. The last `--firing` of them are set to fire
 * within the next minute, `--spread` seconds apart at most; each fire goes through the normal pipeline (synthetic
 * event -> turn -> local channel). Lateness is what the fire path records: `last_fired_at - last_slot`.
 *
 * The last line is JSON: {"schedules","registerSeconds","fireLatenessMs":{"p50","p99"},"redisMb",...}.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { pino } from 'pino';
import { startApp } from '../src/cli/app.js';
import { startRedisServer } from '../src/cli/dev-services.js';
import type { ConversationRef } from '../src/core/types.js';
import { setCheckin } from '../src/scheduler/index.js';
import { createTestDatabase, testConfig } from '../test/helpers/services.js';
import { percentile } from './stats.js';

const { values } = parseArgs({
  options: {
    schedules: { type: 'string', default: '100000' },
    firing: { type: 'string', default: '1000' },
    spread: { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '32' },
  },
});
const N = Number(values.schedules);
const FIRING = Math.min(N, Number(values.firing));
const SPREAD_S = Number(values.spread);
const CONCURRENCY = Number(values.concurrency);
const TIMEZONES = [
  'UTC',
  'Europe/Berlin',
  'America/New_York',
  'Asia/Tokyo',
  'Australia/Sydney',
  'America/Sao_Paulo',
  'Asia/Kolkata',
  'Africa/Lagos',
];

const pct = (xs: number[], p: number) => percentile(xs, p, 0);
const usedMb = async (r: Redis) =>
  Math.round(Number(/used_memory:(\d+)/.exec(await r.info('memory'))![1]) / 1024 / 102.4) / 10;
const ref = (i: number): ConversationRef => ({
  platform: 'local',
  tenant: 'default',
  channel: `dm-u${i}`,
  kind: 'dm',
  user: `u${i}`,
});

const dataDir = await mkdtemp(path.join(tmpdir(), 'gw-sched-bench-'));
const log = pino({ level: 'warn' });
const redisServer = await startRedisServer(dataDir, log);
const db = await createTestDatabase();
const probe = new Redis(redisServer.url);
const config = testConfig({
  SCHEDULER_RECONCILE_MS: '3600000',
  SCHEDULER_CONCURRENCY: '64',
  RATE_LIMIT_PER_MINUTE: '0',
});
const app = await startApp({
  config,
  role: 'all',
  log,
  databaseUrl: db.url,
  redisUrl: redisServer.url,
});
const scheduler = app.services.scheduler!;
const sql = postgres(db.url, { max: 2, onnotice: () => undefined });

try {
  const before = await usedMb(probe);
  const bulk = N - FIRING;
  const t0 = performance.now();
  let next = 0;
  // Everyone but the firing few: daily at a minute of the day spread over 24 h, away from the next few minutes.
  const nowMin = new Date().getUTCHours() * 60 + new Date().getUTCMinutes();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < bulk) {
        const i = next++;
        const minute = (nowMin + 30 + (i % (24 * 60 - 60))) % (24 * 60);
        await setCheckin(scheduler, {
          ref: ref(i),
          enabled: true,
          pattern: `${i % 60} ${minute % 60} ${Math.floor(minute / 60)} * * *`,
          timezone: TIMEZONES[i % TIMEZONES.length],
        });
        if (i % 10_000 === 0) process.stderr.write(`registered ${i}\n`);
      }
    }),
  );
  // The firing ones: once each, at a whole second 15-(15+spread) s after their registration (UTC patterns).
  const base = Math.ceil((Date.now() + 15_000) / 1000) * 1000;
  const slots: number[] = [];
  let f = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (f < FIRING) {
        const j = f++;
        const at = new Date(base + (j % SPREAD_S) * 1000);
        slots.push(at.getTime());
        await setCheckin(scheduler, {
          ref: ref(bulk + j),
          enabled: true,
          pattern: `${at.getUTCSeconds()} ${at.getUTCMinutes()} ${at.getUTCHours()} * * *`,
          timezone: 'UTC',
        });
      }
    }),
  );
  const registerSeconds = Math.round((performance.now() - t0) / 10) / 100;
  const redisMb = Math.round(((await usedMb(probe)) - before) * 10) / 10;
  process.stderr.write(`registered ${N} in ${registerSeconds}s; Redis +${redisMb} MB; waiting for ${FIRING} fires\n`);

  // Wait for every firing check-in to have fired (or give up a minute after the last slot).
  const deadline = Math.max(...slots) + 60_000;
  let fired: { late: number }[] = [];
  while (Date.now() < deadline) {
    fired = await sql<{ late: number }[]>`
      select extract(epoch from last_fired_at) * 1000 - last_slot as late from checkins where last_fired_at is not null`;
    if (fired.length >= FIRING) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const late = fired.map((r) => Number(r.late));
  const turns = (await sql<{ n: string }[]>`select count(*) as n from turns`)[0]!.n;
  const schedulers = (await probe.keys(`${config.KEY_PREFIX}:*repeat:*`)).length;
  console.log(
    JSON.stringify({
      schedules: N,
      registerSeconds,
      registerPerSec: Math.round(N / registerSeconds),
      fireLatenessMs: { p50: pct(late, 50), p99: pct(late, 99), max: pct(late, 100) },
      fired: late.length,
      expectedFires: FIRING,
      checkinTurns: Number(turns),
      redisMb,
      redisKeys: schedulers,
    }),
  );
} finally {
  await sql.end();
  await app.stop();
  probe.disconnect();
  await redisServer.stop();
  await db.drop();
  await rm(dataDir, { recursive: true, force: true });
}
