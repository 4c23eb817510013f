import type { Socket } from 'node:net';
import type { Redis } from 'ioredis';
import { afterAll, expect, it } from 'vitest';
import { createRedis } from '../../src/queue/redis.js';
import { REDIS_URL, uniqueName } from '../helpers/services.js';

const opened: Redis[] = [];
const open = (r: Redis) => (opened.push(r), r);
afterAll(async () => {
  for (const r of opened) r.disconnect();
});

/** How many times the socket handed bytes to the kernel (one write or one writev each). */
function countFlushes(socket: Socket): () => number {
  let n = 0;
  const s = socket as Socket & { _write: (...a: unknown[]) => void; _writev: (...a: unknown[]) => void };
  for (const m of ['_write', '_writev'] as const) {
    const orig = s[m];
    s[m] = function (this: Socket, ...a: unknown[]) {
      n++;
      return orig.apply(this, a);
    };
  }
  return () => n;
}

async function burst(redis: Redis, key: string): Promise<{ replies: number[]; flushes: number }> {
  await redis.ping(); // connected, so the count below is this burst's alone
  const flushes = countFlushes(redis.stream as Socket);
  // 200 commands in one tick, as a worker with 200 turns in flight issues them after one read of replies.
  const replies = await Promise.all(Array.from({ length: 200 }, () => redis.incr(key)));
  return { replies, flushes: flushes() };
}

it('sends the commands issued in one tick in one write, with every reply in order', async () => {
  const redis = open(createRedis(REDIS_URL));
  const key = uniqueName('coalesce');
  const { replies, flushes } = await burst(redis, key);
  expect(replies).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
  expect(flushes).toBe(1);
  await redis.del(key);
});

it('sends the commands of several callbacks of one event-loop phase in one write', async () => {
  // As one poll of the event loop hands a worker replies from several sockets: each callback issues commands.
  const redis = open(createRedis(REDIS_URL));
  const key = uniqueName('coalesce');
  await redis.ping();
  const flushes = countFlushes(redis.stream as Socket);
  const replies = await new Promise<number[]>((resolve) => {
    const out: Promise<number>[] = [];
    for (let i = 0; i < 5; i++)
      setTimeout(() => {
        out.push(redis.incr(key));
        if (out.length === 5) void Promise.all(out).then(resolve);
      }, 0);
  });
  expect(replies).toEqual([1, 2, 3, 4, 5]);
  expect(flushes()).toBe(1);
  await redis.del(key);
});

it('coalesces on the duplicates BullMQ makes and on the new socket after a reconnect', async () => {
  const first = open(createRedis(REDIS_URL));
  const dup = open(first.duplicate());
  const key = uniqueName('coalesce');
  expect((await burst(dup, key)).flushes).toBe(1);
  // The server drops the connection; ioredis reconnects on a new socket, which must coalesce too.
  const id = await dup.client('ID');
  await first.client('KILL', 'ID', String(id));
  await new Promise((r) => dup.once('ready', r));
  const again = await burst(dup, key);
  expect(again.replies.at(-1)).toBe(400);
  expect(again.flushes).toBe(1);
  await first.del(key);
});
