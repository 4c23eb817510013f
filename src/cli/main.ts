/**
 * Entry point: `node dist/src/cli/main.js [gateway|worker|all|migrate]` (or ROLE). In development, missing
 * DATABASE_URL / REDIS_URL are replaced by an embedded Postgres and a spawned redis-server, and migrations run
 * automatically. SIGTERM / SIGINT shut down gracefully.
 */
import { migrate } from '../db/migrate.js';
import { openDatabase } from '../db/client.js';
import { createLogger, safeErr } from '../observability/logger.js';
import { startApp, type Role } from './app.js';
import { startEmbeddedPostgres, startRedisServer, type DevService } from './dev-services.js';
import { loadConfigOrExit } from './load-config.js';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const arg = process.argv[2];
  const role = (arg ?? config.ROLE) as Role | 'migrate';
  if (!['gateway', 'worker', 'all', 'migrate'].includes(role)) {
    console.error(`unknown role "${role}": use gateway, worker, all or migrate`);
    process.exit(2);
  }
  const log = createLogger(config.LOG_LEVEL);
  const devServices: DevService[] = [];
  const stopDev = async () => {
    for (const s of devServices.reverse()) await s.stop().catch(() => undefined);
  };

  let databaseUrl = config.DATABASE_URL;
  if (!databaseUrl) {
    const pg = await startEmbeddedPostgres(config.DATA_DIR, log);
    devServices.push(pg);
    databaseUrl = pg.url;
    log.info('DATABASE_URL unset: using embedded Postgres (development only)');
  }
  if (role === 'migrate' || !config.isProduction) {
    const db = openDatabase(databaseUrl, 1);
    const applied = await migrate(db.sql);
    await db.close();
    log.info({ applied }, applied.length ? 'migrations applied' : 'database schema up to date');
    if (role === 'migrate') {
      await stopDev();
      return;
    }
  }
  let redisUrl = config.REDIS_URL;
  if (!redisUrl) {
    const redis = await startRedisServer(config.DATA_DIR, log);
    devServices.push(redis);
    redisUrl = redis.url;
    log.info({ redisUrl }, 'REDIS_URL unset: spawned redis-server (development only)');
  }

  const app = await startApp({ config, role: role as Role, log, databaseUrl, redisUrl });
  if (config.offlineModel) log.warn('no OPENAI_API_KEY: using the OFFLINE deterministic model (echoes; see README)');
  log.info({ role, url: app.url, channels: app.adapters.all().map((a) => a.platform) }, 'gateway started');
  if (config.localChannelEnabled && role !== 'worker') {
    process.stdout.write(`\n  Chat with the bot:  npm run chat            (or: GATEWAY_URL=${app.url} npm run chat)\n`
      + `  Or over HTTP:       curl -s ${app.url}/local/messages -H 'content-type: application/json' \\\n`
      + `                        -d '{"conversation":"demo","user":"me","text":"hello","wait":true}'\n\n`);
  }

  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    log.info({ signal }, 'shutting down: no new work; finishing active turns');
    const force = setTimeout(() => process.exit(1), config.SHUTDOWN_GRACE_MS + 10_000).unref();
    try {
      await app.stop();
      await stopDev();
    } finally {
      clearTimeout(force);
      process.exit(0);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  // Last line of defence: log, never die, for errors a library let escape (the supervisor logic lives in adapters).
  process.on('unhandledRejection', (err) => log.error({ err: safeErr(err) }, 'unhandled rejection'));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
