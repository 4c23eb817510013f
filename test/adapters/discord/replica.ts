/**
 * One Discord adapter "replica" against the loopback fake, with its own Redis connection as a separate process
 * would have. The lease, shard and reshard tests start several and watch which shards each one holds.
 */
import { Redis } from 'ioredis';
import { afterAll } from 'vitest';
import { type DiscordAdapterOptions, createDiscordAdapter } from '../../../adapters/discord/index.js';
import { type FakeDiscord, IDS, createSigner } from '../../fakes/discord/index.js';
import { REDIS_URL, recordingSink, trackUnhandled } from './helpers.js';

const signer = createSigner();

/**
 * What a replica test file watches besides its replicas: a Redis connection of its own (to read leases and clean
 * up) and the process's unhandled errors (none may escape a replica). Both end with the file.
 */
export function replicaHarness(): { admin: Redis; unhandled: ReturnType<typeof trackUnhandled> } {
  const admin = new Redis(REDIS_URL);
  const unhandled = trackUnhandled();
  afterAll(() => {
    unhandled.dispose();
    admin.disconnect();
  });
  return { admin, unhandled };
}

export function discordReplica(fake: FakeDiscord, prefix: string, opts: Partial<DiscordAdapterOptions>) {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  const sink = recordingSink();
  const adapter = createDiscordAdapter({
    token: fake.token,
    applicationId: IDS.app,
    publicKey: signer.publicKeyHex,
    apiUrl: fake.apiUrl,
    redis,
    keyPrefix: prefix,
    ...opts,
  });
  return { redis, sink, adapter, shards: () => (adapter.health().shards ?? []).map((s) => s.id) };
}
export type DiscordReplica = ReturnType<typeof discordReplica>;

/** Stop every replica (errors ignored: some were already stopped or cut off on purpose) and close its Redis. */
export async function stopReplicas(rs: DiscordReplica[]): Promise<void> {
  for (const r of rs) {
    await r.adapter.stop!().catch(() => undefined);
    r.redis.disconnect();
  }
}
