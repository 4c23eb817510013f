/** Redis connections. BullMQ workers need `maxRetriesPerRequest: null` so blocking commands survive reconnects. */
import { Redis, type RedisOptions } from 'ioredis';
import { CoalescingConnector } from './coalesce.js';

export function createRedis(url: string, opts: RedisOptions = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    // Keep retrying forever with a capped back-off: a Redis restart must never kill a process.
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 6), 5_000),
    reconnectOnError: (err) => err.message.includes('READONLY'),
    // One write per tick per connection (src/queue/coalesce.ts); a Sentinel setup keeps ioredis's own connector.
    ...(opts.sentinels ? {} : { Connector: CoalescingConnector }),
    ...opts,
  });
}

/**
 * Redis must never evict: inboxes, dedupe marks, leases and BullMQ's own keys would vanish silently under memory
 * pressure (lost messages, duplicate answers, two pollers). Read from INFO, which managed Redis services allow
 * even where CONFIG is disabled. Production refuses to start; development warns.
 */
export async function checkEvictionPolicy(
  redis: Redis,
  production: boolean,
  warn: (msg: string) => void,
): Promise<void> {
  const policy = /^maxmemory_policy:(\S+)/m.exec(await redis.info('memory'))?.[1];
  if (!policy || policy === 'noeviction') return;
  const msg = `Redis maxmemory-policy is ${policy}, but the gateway needs noeviction (evicted keys are lost messages, duplicate answers and broken leases): set maxmemory-policy noeviction in the Redis configuration.`;
  if (production) throw new Error(msg);
  warn(msg);
}
