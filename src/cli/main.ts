/**
 * Entry point: `node dist/gateway.mjs [gateway|worker|all|migrate|rotate-token-key]` (or ROLE). In development, missing
 * DATABASE_URL / REDIS_URL are replaced by an embedded Postgres and a spawned redis-server, and migrations run
 * automatically. SIGTERM / SIGINT shut down gracefully.
 */
import { ensureDevApiKey } from '../api/dev-key.js';
import { migrate } from '../db/migrate.js';
import { openDatabase } from '../db/client.js';
import { createLogger, safeErr } from '../observability/logger.js';
import { startApp, type Role } from './app.js';
import { writeDevRecord } from './dev-record.js';
import { startEmbeddedPostgres, startRedisServer, type DevService } from './dev-services.js';
import { loadConfigOrExit } from './load-config.js';
import { rotateTokenKey } from './rotate-token-key.js';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const arg = process.argv[2];
  const role = (arg ?? config.ROLE) as Role | 'migrate';
  if (arg === 'rotate-token-key') return rotateTokenKey(config);
  if (!['gateway', 'worker', 'all', 'migrate'].includes(role)) {
    console.error(`unknown role "${role}": use gateway, worker, all, migrate or rotate-token-key`);
    process.exit(2);
  }
  const log = createLogger(config.LOG_LEVEL, 'gateway', undefined, role);
  const devServices: DevService[] = [];
  const stopDev = async () => {
    for (const s of devServices.reverse()) await s.stop().catch(() => undefined);
  };

  // A failed start stops what it already started (a Postgres child would outlive us) and ends with one sentence.
  let databaseUrl = config.DATABASE_URL;
  let redisUrl = config.REDIS_URL;
  try {
    if (!databaseUrl) {
      const pg = await startEmbeddedPostgres(config.DATA_DIR, log, { runtimeRoot: config.EMBEDDED_PG_RUNTIME_DIR });
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
    if (!redisUrl) {
      const redis = await startRedisServer(config.DATA_DIR, log);
      devServices.push(redis);
      redisUrl = redis.url;
      log.info({ redisUrl }, 'REDIS_URL unset: spawned redis-server (development only)');
    }
  } catch (err) {
    await stopDev();
    throw err;
  }
  // Development: a ready key for the web chat (handed to the page, printed below). Never in production.
  const webChat = config.API_ENABLED && (config.WEB_CHAT ?? true) && role !== 'worker';
  let devApiKey: string | undefined;
  const app = await (async () => {
    if (!config.isProduction && webChat) {
      const db = openDatabase(databaseUrl, 1);
      devApiKey = await ensureDevApiKey(db.db, config.DATA_DIR).finally(() => db.close());
    }
    return startApp({ config, role: role as Role, log, databaseUrl, redisUrl: redisUrl!, devApiKey });
  })().catch(async (err: unknown) => {
    await stopDev();
    throw err;
  });
  // Development: where the CLI tools find this process' services (only the ones it started itself).
  const removeRecord = config.isProduction
    ? async () => undefined
    : await writeDevRecord(config.DATA_DIR, {
        pid: process.pid,
        url: app.url,
        databaseUrl: config.DATABASE_URL ? undefined : databaseUrl,
        redisUrl: config.REDIS_URL ? undefined : redisUrl,
      });
  if (config.offlineModel) log.warn('no OPENAI_API_KEY: using the OFFLINE deterministic model (echoes; see README)');
  log.info({ url: app.url, channels: app.adapters.all().map((a) => a.platform) }, 'gateway started');
  if (config.localChannelEnabled && role !== 'worker') {
    process.stdout.write(
      `\n  Chat with the bot:  npm run chat            (or: GATEWAY_URL=${app.url} npm run chat)\n` +
        `  Or over HTTP:       curl -s ${app.url}/local/messages -H 'content-type: application/json' \\\n` +
        `                        -d '{"conversation":"demo","user":"me","text":"hello","wait":true}'\n` +
        (devApiKey
          ? `  Web chat:           ${app.url}${config.WEB_CHAT_PATH}   (development API key: ${devApiKey})\n`
          : '') +
        '\n',
    );
  }

  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    log.info({ signal }, 'shutting down: no new work; finishing active turns');
    const force = setTimeout(() => process.exit(1), config.SHUTDOWN_GRACE_MS + 10_000).unref();
    try {
      await app.stop();
      await removeRecord();
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
