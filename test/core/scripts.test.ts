/**
 * Lua lives in one place: src/core/scripts/*.lua, each listed once and run through runScript (loaded once per
 * connection with defineCommand). No TypeScript file carries its own copy of a script.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, expect, it } from 'vitest';
import { runScript, SCRIPT_NAMES, scriptsDir } from '../../src/core/scripts.js';
import { REDIS_URL, uniqueName } from '../helpers/services.js';

const repo = path.resolve(import.meta.dirname, '../..');
const redis = new Redis(REDIS_URL);
const prefix = uniqueName('scripts');
afterAll(async () => {
  const found = await redis.keys(`${prefix}:*`);
  if (found.length) await redis.del(...found);
  redis.disconnect();
});

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

it('every script is a .lua file listed once, no two alike, and no TypeScript file embeds Lua', () => {
  const files = readdirSync(scriptsDir())
    .filter((f) => f.endsWith('.lua'))
    .map((f) => f.slice(0, -4))
    .sort();
  expect(files).toEqual([...SCRIPT_NAMES].sort());
  const bodies = files.map((f) => {
    const lua = readFileSync(path.join(scriptsDir(), `${f}.lua`), 'utf8');
    return createHash('sha1')
      .update(lua.replace(/--[^\n]*\n/g, '').replace(/\s+/g, ' '))
      .digest('hex');
  });
  expect(new Set(bodies).size).toBe(bodies.length);
  const embedding = [...tsFiles(path.join(repo, 'src')), ...tsFiles(path.join(repo, 'adapters'))]
    .map((f) => path.relative(repo, f))
    .filter((f) => f !== 'src/core/scripts.ts')
    .filter((f) => /redis\.call\(|\.eval\(|evalsha/i.test(readFileSync(path.join(repo, f), 'utf8')));
  expect(embedding).toEqual([]);
});

it('the one token bucket serves both callers: a token per call, or one per message id not charged before', async () => {
  const perMs = 1 / 60_000; // one a minute: nothing refills during the test
  const apiKey = `${prefix}:api:rate:k1`;
  expect(await runScript(redis, 'token-bucket', [apiKey], [perMs, 2])).toBe(0);
  expect(await runScript(redis, 'token-bucket', [apiKey], [perMs, 2])).toBe(0);
  expect(await runScript<number>(redis, 'token-bucket', [apiKey], [perMs, 2])).toBeGreaterThan(50_000);

  const bucket = `${prefix}:access:bucket:u1`;
  const charged = `${prefix}:access:charged:u1`;
  expect(await runScript(redis, 'token-bucket', [bucket, charged], [perMs, 2, 'm1', 'm2'])).toBe(0);
  // The same messages again (a re-run turn) cost nothing; a third message finds the bucket empty.
  expect(await runScript(redis, 'token-bucket', [bucket, charged], [perMs, 2, 'm1', 'm2'])).toBe(0);
  expect(await runScript<number>(redis, 'token-bucket', [bucket, charged], [perMs, 2, 'm2', 'm3'])).toBeGreaterThan(0);
});

it('a hash field is set and the hash kept for its time to live, in one round trip', async () => {
  const key = `${prefix}:mem:pending:u1`;
  expect(await runScript(redis, 'hash-set-ttl', [key], ['conv-a', '{"at":1}', 600])).toBe(1);
  expect(await runScript(redis, 'hash-set-ttl', [key], ['conv-b', '{"at":2}', 900])).toBe(1);
  expect(await redis.hgetall(key)).toEqual({ 'conv-a': '{"at":1}', 'conv-b': '{"at":2}' });
  const ttl = await redis.ttl(key);
  expect(ttl).toBeGreaterThan(600); // restarted by the second call
  expect(ttl).toBeLessThanOrEqual(900);
});

it('a kept publish is readable under each key for its time to live and reaches a subscriber once', async () => {
  const channel = `${prefix}:delivered`;
  const sub = new Redis(REDIS_URL);
  const got: string[] = [];
  await sub.subscribe(channel);
  sub.on('message', (_c, m) => got.push(m));
  try {
    const keys = [`${prefix}:recent:e1`, `${prefix}:recent:e2`];
    expect(await runScript(redis, 'publish-kept', keys, [channel, '{"turnId":"t1"}', 3_600])).toBe(1);
    await expect.poll(() => got).toEqual(['{"turnId":"t1"}']);
    expect(await redis.mget(...keys)).toEqual(['{"turnId":"t1"}', '{"turnId":"t1"}']);
    for (const k of keys) expect(await redis.ttl(k)).toBeGreaterThan(3_500);
  } finally {
    sub.disconnect();
  }
});
