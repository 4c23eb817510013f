/**
 * Database -> Redis reconcilers (scheduler check-ins, API crons) run on every worker, but under one lease: two
 * processes never run passes at the same time (each pass snapshots Redis, then writes; two at once would remove
 * or re-add each other's work), and when the holder stops, the other one takes over.
 */
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, expect, it } from 'vitest';
import { startLeasedReconciler } from '../../src/queue/reconciler.js';
import { keys } from '../../src/queue/keys.js';
import { cleanRedisPrefix, REDIS_URL, uniqueName } from '../helpers/services.js';
import { sleep } from '../helpers/wait.js';

const prefix = uniqueName('recon');
const log = pino({ level: 'silent' });
const connections: Redis[] = [];
afterAll(async () => {
  for (const c of connections) c.disconnect();
  await cleanRedisPrefix(prefix);
});

it('two processes reconciling at once: one pass at a time, by one holder; the other takes over on stop', async () => {
  let active = 0;
  let maxActive = 0;
  const passes: string[] = [];
  const start = (name: string) => {
    const redis = new Redis(REDIS_URL); // one connection each, as two processes would have
    connections.push(redis);
    return startLeasedReconciler({
      redis,
      leaseKey: keys(prefix).lease('reconcile-test'),
      everyMs: 50,
      leaseTtlMs: 600,
      log,
      what: name,
      pass: async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        passes.push(name);
        await sleep(30); // a pass takes a while: overlapping passes would show up in `maxActive`
        active--;
      },
    });
  };
  const stopA = start('a');
  const stopB = start('b');
  await sleep(1_000);
  expect(passes.length).toBeGreaterThan(5);
  expect(maxActive).toBe(1);
  const first = passes[0]!;
  expect(new Set(passes)).toEqual(new Set([first]));

  // The holder stops (a deploy, a crash): the other process becomes the reconciler.
  const before = passes.length;
  await (first === 'a' ? stopA : stopB)();
  await sleep(1_000);
  const later = passes.slice(before);
  expect(later.length).toBeGreaterThan(3);
  expect(new Set(later)).toEqual(new Set([first === 'a' ? 'b' : 'a']));
  expect(maxActive).toBe(1);
  await (first === 'a' ? stopB : stopA)();
}, 20_000);
