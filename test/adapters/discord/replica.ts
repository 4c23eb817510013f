/**
 * One Discord adapter "replica" against the loopback fake, with its own Redis connection as a separate process
 * would have. The lease, shard and reshard tests start several and watch which shards each one holds.
 */
import { Redis } from 'ioredis';
import { type DiscordAdapterOptions, createDiscordAdapter } from '../../../adapters/discord/index.js';
import { type FakeDiscord, IDS, createSigner } from '../../fakes/discord/index.js';
import { REDIS_URL, recordingSink } from './helpers.js';

const signer = createSigner();

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
