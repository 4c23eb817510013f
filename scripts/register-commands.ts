/**
 * `npm run commands:register`: publish every command of the gateway (built-ins and the modules') to Discord and
 * Telegram, as gateways also do at start-up (COMMANDS_REGISTER_ON_START). Composes the app like a gateway would,
 * without starting it, so the list is exactly what the gateway answers; see src/cli/register-commands.ts.
 */
import { composeApp } from '../src/cli/app.js';
import { registerPlatformCommands } from '../src/cli/register-commands.js';
import { createLogger } from '../src/observability/logger.js';
import { loadConfigOrExit } from '../src/cli/load-config.js';

async function main(): Promise<number> {
  const config = loadConfigOrExit();
  const log = createLogger(config.LOG_LEVEL);
  // Nothing is queried: Postgres connects lazily, and no module is started.
  const parts = composeApp({
    config,
    role: 'gateway',
    log,
    databaseUrl: config.DATABASE_URL ?? 'postgres://127.0.0.1:5432/unused',
    redisUrl: config.REDIS_URL ?? 'redis://127.0.0.1:6379',
  });
  try {
    const r = await registerPlatformCommands(parts.adapters.all(), parts.commands.list(), log);
    const published = Object.entries(r);
    if (published.length === 0) {
      console.log(
        'no Discord or Telegram token configured; nothing to register (Slack: see adapters/slack/manifest.yaml)',
      );
    } else {
      console.log(published.map(([platform, count]) => `${platform}: ${count} commands`).join(', '));
    }
    return 0;
  } finally {
    await parts.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`command registration failed: ${(err as Error).message}`);
    process.exit(1);
  },
);
