/** Redis connections. BullMQ workers need `maxRetriesPerRequest: null` so blocking commands survive reconnects. */
import { Redis, type RedisOptions } from 'ioredis';

export function createRedis(url: string, opts: RedisOptions = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    // Keep retrying forever with a capped back-off: a Redis restart must never kill a process.
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 6), 5_000),
    reconnectOnError: (err) => err.message.includes('READONLY'),
    ...opts,
  });
}
