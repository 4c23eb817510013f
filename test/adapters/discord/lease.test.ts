import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discordLeaseKey } from '../../../adapters/discord/index.js';
import { FakeDiscord, mentioning } from '../../fakes/discord/index.js';
import { REDIS_URL, deleteKeys, testPrefix, trackUnhandled, waitFor } from './helpers.js';
import { discordReplica, stopReplicas } from './replica.js';

const prefix = testPrefix('lease');
const TTL = 600;
let fake: FakeDiscord;
let admin: Redis;
const unhandled = trackUnhandled();

beforeAll(async () => {
  fake = await new FakeDiscord().start();
  admin = new Redis(REDIS_URL);
});
afterAll(async () => {
  unhandled.dispose();
  await fake.stop();
  await deleteKeys(admin, prefix);
  admin.disconnect();
});

/** Each adapter gets its own Redis connection, as separate processes would. */
const replica = () =>
  discordReplica(fake, prefix, {
    leaseTtlMs: TTL,
    gatewayTuning: { retryBaseMs: 100, retryMaxMs: 400, connectTimeoutMs: 5000 },
  });

describe('discord gateway lease', () => {
  it('keys the lease by a hash of the token, never the token', () => {
    const key = discordLeaseKey(prefix, fake.token);
    expect(key).toMatch(new RegExp(`^${prefix}:lease:discord:[0-9a-f]{16}$`));
    expect(key).not.toContain(fake.token);
  });

  it('keeps one connection per token; a stand-by takes over when the holder stops or its lease expires', async () => {
    const a = replica();
    const b = replica();
    const c = replica();
    try {
      await a.adapter.start!(a.sink);
      await waitFor(() => a.adapter.health().state === 'up', 'a up');
      await b.adapter.start!(b.sink);
      await waitFor(() => b.adapter.health().state === 'standby', 'b standby');
      expect(await admin.exists(a.adapter.leaseKey)).toBe(1);
      expect(fake.gateway.liveSessions().length).toBe(1);

      // Holder stops cleanly: it releases the key, b connects at its next try.
      await a.adapter.stop!();
      await waitFor(() => b.adapter.health().state === 'up', 'b takes over', TTL * 4);
      const m1 = mentioning({ content: 'for whoever holds the gateway' });
      fake.gateway.dispatch('MESSAGE_CREATE', m1);
      await waitFor(() => b.sink.events.find((e) => e.id === `discord:${m1.id}`), 'b receives');
      expect(a.sink.events.find((e) => e.id === `discord:${m1.id}`)).toBeUndefined();

      // Holder "dies" (loses Redis, cannot renew): it steps down, the key expires, the stand-by connects.
      await c.adapter.start!(c.sink);
      await waitFor(() => c.adapter.health().state === 'standby', 'c standby');
      b.redis.disconnect();
      await waitFor(() => b.adapter.health().state === 'standby', 'b steps down', TTL * 4);
      await waitFor(() => c.adapter.health().state === 'up', 'c takes over after expiry', TTL * 6);
      const m2 = mentioning({ content: 'after the second takeover' });
      fake.gateway.dispatch('MESSAGE_CREATE', m2);
      await waitFor(() => c.sink.events.find((e) => e.id === `discord:${m2.id}`), 'c receives');
      expect(b.sink.events.find((e) => e.id === `discord:${m2.id}`)).toBeUndefined();

      expect(fake.gateway.maxLiveSessions).toBe(1); // never two gateway connections at once
      expect(unhandled.errors).toEqual([]);
    } finally {
      await stopReplicas([a, b, c]);
    }
  });
});
