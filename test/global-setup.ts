/** Fails fast with a clear message when the services the integration tests need are not running. */
import { Redis } from 'ioredis';
import postgres from 'postgres';

export default async function setup(): Promise<void> {
  const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const pgUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    await redis.ping();
  } catch {
    throw new Error(`tests need Redis at ${redisUrl} (set TEST_REDIS_URL); .ci/run starts one`);
  } finally {
    redis.disconnect();
  }
  const sql = postgres(pgUrl, { max: 1, onnotice: () => undefined });
  try {
    await sql`select 1`;
  } catch {
    throw new Error(`tests need Postgres at ${pgUrl} (set TEST_DATABASE_URL); .ci/run starts one`);
  } finally {
    await sql.end();
  }
}
