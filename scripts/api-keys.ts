/**
 * `npm run api-keys -- create <name> | revoke <id> | list`: manage the agent API's keys.
 * `create` prints the key once; only its hash is stored. Uses DATABASE_URL; without it (development only) the
 * database of the `npm run dev` running on DATA_DIR (it records it there), or else the embedded Postgres under
 * DATA_DIR, started for the command.
 */
import { createApiKey, listApiKeys, revokeApiKey } from '../src/api/auth.js';
import { readDevRecord } from '../src/cli/dev-record.js';
import { startEmbeddedPostgres, type DevService } from '../src/cli/dev-services.js';
import { openDatabase } from '../src/db/client.js';
import { migrate } from '../src/db/migrate.js';
import { createLogger } from '../src/observability/logger.js';
import { loadConfigOrExit } from '../src/cli/load-config.js';

const USAGE = 'usage: npm run api-keys -- create <name> | revoke <id> | list';

async function main(): Promise<number> {
  const [command, ...rest] = process.argv.slice(2);
  const arg = rest.join(' ').trim();
  if (!command || !['create', 'revoke', 'list'].includes(command) || (command !== 'list' && !arg)) {
    console.error(USAGE);
    return 2;
  }
  const config = loadConfigOrExit();
  // A running `npm run dev` holds the embedded database: use it through its server instead of starting another.
  let url = config.DATABASE_URL ?? (await readDevRecord(config.DATA_DIR))?.databaseUrl;
  let dev: DevService | undefined;
  if (!url) {
    dev = await startEmbeddedPostgres(config.DATA_DIR, createLogger('warn'), {
      runtimeRoot: config.EMBEDDED_PG_RUNTIME_DIR,
    });
    url = dev.url;
  }
  const database = openDatabase(url, 1);
  try {
    if (dev) await migrate(database.sql);
    if (command === 'create') {
      const k = await createApiKey(database.db, arg);
      console.log(`created API key ${k.id} (${k.name}). Store it now, it is not shown again:\n\n  ${k.key}\n`);
      console.log('Use it in the x-api-key header, e.g. new Client({ apiUrl, apiKey }) from @langchain/langgraph-sdk.');
    } else if (command === 'revoke') {
      const ok = await revokeApiKey(database.db, arg);
      console.log(ok ? `revoked API key ${arg}` : `no active API key ${arg}`);
      if (!ok) return 1;
    } else {
      const keys = await listApiKeys(database.db);
      if (!keys.length) console.log('no API keys; create one with: npm run api-keys -- create <name>');
      for (const k of keys)
        console.log(`${k.id}  ${k.revokedAt ? 'revoked' : 'active '}  ${k.createdAt.toISOString()}  ${k.name}`);
    }
    return 0;
  } finally {
    await database.close();
    await dev?.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`api-keys failed: ${(err as Error).message}`);
    process.exit(1);
  },
);
