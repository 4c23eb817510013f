/**
 * Discord lets `max_concurrency` shards identify per 5 seconds, one per bucket `shard_id % max_concurrency`, across
 * every process using the token. @discordjs/ws asks an `IIdentifyThrottler` before each identify; this one keeps
 * the buckets in Redis (a `SET NX PX` slot per bucket), so shards on different replicas wait their turn too. Before
 * taking a slot it checks that this replica still holds the shard's lease (the fence): a replica that lost the
 * lease never identifies, it waits until its connection is torn down.
 */
import type { Redis } from 'ioredis';
import type { ShardLeaseKeys } from '../../src/queue/keys.js';
import { sleep } from '../kit/backoff.js';

/** Discord's identify window per bucket. */
export const IDENTIFY_WINDOW_MS = 5_000;

export interface IdentifyThrottle {
  waitForIdentify(shardId: number, signal: AbortSignal): Promise<void>;
}

export interface RedisIdentifyOptions {
  redis: Redis;
  keys: ShardLeaseKeys;
  maxConcurrency: number;
  /** Still the lease holder of this shard? */
  holds(shardId: number): Promise<boolean>;
  windowMs?: number;
}

export function redisIdentifyThrottle(o: RedisIdentifyOptions): IdentifyThrottle {
  const windowMs = o.windowMs ?? IDENTIFY_WINDOW_MS;
  const buckets = Math.max(1, o.maxConcurrency);
  return {
    async waitForIdentify(shardId, signal) {
      const key = o.keys.identify(shardId % buckets);
      for (;;) {
        signal.throwIfAborted();
        let wait = 100;
        if (await o.holds(shardId)) {
          const ok = await o.redis.set(key, String(shardId), 'PX', windowMs, 'NX');
          if (ok === 'OK') return;
          wait = Math.max(20, await o.redis.pttl(key));
        } else {
          wait = 250; // not ours (any more): the shard's connection is being stopped
        }
        await sleep(wait, signal); // resolves early on abort; the loop then throws
      }
    },
  };
}
