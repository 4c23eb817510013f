/**
 * Reduced chaos run (the full one is `npm run chaos`): workers SIGKILLed, Redis killed and restarted (AOF),
 * Postgres stopped for seconds, all while signed Slack events flow. Nothing lost, nothing duplicated, order kept,
 * and everything idle at the end.
 */
import { expect, it } from 'vitest';
import { runChaos } from '../../bench/chaos-lib.js';

it('survives worker kills, a Redis restart and a database outage without losing or duplicating a reply', async () => {
  const r = await runChaos({
    messages: 150,
    conversations: 15,
    workers: 2,
    sendSeconds: 12,
    workerKillEveryMs: 3_000,
    minWorkerKills: 2,
    redisRestarts: 1,
    dbOutageMs: 4_000,
    // Says which kind of duplicate, or what was left busy, if it ever happens.
    log: (line) => (line.startsWith('duplicate') || line.startsWith('not idle')) && console.error(`[chaos] ${line}`),
  });
  expect(r.workerKills).toBeGreaterThanOrEqual(2);
  expect(r.redisRestarts).toBe(1);
  expect(r.dbOutages).toBe(1);
  expect({ lost: r.lost, duplicates: r.duplicates, orderViolations: r.orderViolations, idle: r.idle }).toEqual({
    lost: 0,
    duplicates: 0,
    orderViolations: 0,
    idle: true,
  });
  expect(r.replies).toBeGreaterThan(0);
}, 240_000);
