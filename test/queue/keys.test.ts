import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  isOwnedKey,
  keys,
  KEY_SHAPES,
  localSentMarkKey,
  platformLeaseKey,
  recentDeliveryKey,
  threadKey,
} from '../../src/queue/keys.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, startPrivateRedis, type TestDatabase } from '../helpers/services.js';
import { sleep } from '../helpers/wait.js';

let redis: Awaited<ReturnType<typeof startPrivateRedis>>;
let url: string;
let db: TestDatabase;

beforeAll(async () => {
  redis = await startPrivateRedis([]);
  url = redis.url;
  db = await createTestDatabase();
});

afterAll(async () => {
  await redis?.stop();
  await db?.drop();
});

async function allKeys(redisUrl: string): Promise<string[]> {
  const r = new Redis(redisUrl);
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await r.scan(cursor, 'COUNT', 1000);
    cursor = next;
    out.push(...batch);
  } while (cursor !== '0');
  r.disconnect();
  return out;
}

it('every builder of the key owner has a declared shape', () => {
  const k = keys('p');
  const a = k.access;
  const built = [
    `${k.bullPrefix}:turns:1`,
    k.seen('e'),
    k.claim('c'),
    k.inbox('c'),
    k.turnQueued('c'),
    k.inboxes,
    k.pace('c'),
    k.sent('t:0'),
    k.localOut('c'),
    k.lease('n'),
    k.modelOutput('h'),
    k.turnFailures('c'),
    k.deadLetters,
    k.memoryPending('u'),
    k.fanoutPace('slack'),
    a.pause,
    a.pauseNotice('1', 'c'),
    a.pairCode('x'),
    a.pairBy('u'),
    a.bucket('u'),
    a.charged('u'),
    a.rateNotice('u'),
    a.loop('c', 1),
    a.loopMark('c', 'm', 1),
    k.api.rate('k'),
    localSentMarkKey(k.localOut('c'), 'i'),
    recentDeliveryKey(k.delivered, 'e'),
    threadKey('p', 't'),
    threadKey('p', 't', 'discord'),
    platformLeaseKey('p', 'telegram', 'secret'),
  ];
  for (const key of built) expect(isOwnedKey('p', key), key).toBe(true);
  expect(isOwnedKey('p', 'p:somewhere-else')).toBe(false);
  expect(isOwnedKey('p', 'other:seen:e')).toBe(false);
  expect(KEY_SHAPES.length).toBeGreaterThan(10);
});

it('after turns in a DM, a group and a command, every key is under the prefix with an owned shape; ' +
  'turns survive an emptied script cache', async () => {
  let app: TestApp | undefined;
  try {
    app = await startTestApp({ db, redisUrl: url, env: { REDIS_URL: url, MEMORY_EXTRACT_DELAY_MS: '100' } });
    const prefix = app.config.KEY_PREFIX;
    const turns = [
      { conversation: 'keys-dm', user: 'u1', text: 'remember that my favourite colour is teal', wait: true },
      { conversation: 'keys-group', user: 'u2', text: 'hello group', kind: 'group', wait: true },
      { conversation: 'keys-dm', user: 'u1', text: '/help', wait: true },
    ];
    for (const t of turns) {
      const res = await app.post('/local/messages', t);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    }
    await sleep(500); // memory extraction and the sweeper write off the turn's path
    const found = await allKeys(url);
    expect(found.length).toBeGreaterThan(5);
    const strays = found.filter((key) => !isOwnedKey(prefix, key));
    expect(strays).toEqual([]);
    // The families a turn must have used: the check above saw real keys, not an empty Redis.
    for (const family of ['bull:', 'seen:', 'local:out:', 'delivered:recent:']) {
      expect(
        found.some((key) => key.startsWith(`${prefix}:${family}`)),
        family,
      ).toBe(true);
    }

    // The scripts are cached by Redis; a restart empties the cache, and turns must still run (EVAL fallback).
    const admin = new Redis(url);
    await admin.script('FLUSH');
    admin.disconnect();
    const again = { conversation: 'keys-dm', user: 'u1', text: 'still there?', wait: true };
    const after = await app.post('/local/messages', again);
    expect(after.body.replies).toEqual([{ text: 'Echo: [u1] still there?' }]);
  } finally {
    await app?.stop();
  }
}, 60_000);
