/**
 * First contact with the web chat and the key commands in development: the page comes with a working key (never
 * in production), and `npm run api-keys` works while `npm run dev` holds the embedded database, against that
 * running gateway's database (found through the record the dev process leaves in DATA_DIR).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listApiKeys, revokeApiKey, verifyApiKey } from '../../src/api/index.js';
import { DEV_KEY_NAME, ensureDevApiKey } from '../../src/api/dev-key.js';
import { readDevRecord, writeDevRecord } from '../../src/cli/dev-record.js';
import { openDatabase, type Database } from '../../src/db/client.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, REDIS_URL, type TestDatabase } from '../helpers/services.js';

function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(path.resolve('node_modules/.bin/tsx'), args, {
      env: { PATH: process.env.PATH!, HOME: process.env.HOME!, ...env },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

describe('development API key and key commands next to a running gateway', () => {
  let tdb: TestDatabase;
  let database: Database;
  let dataDir: string;
  const apps: TestApp[] = [];

  beforeAll(async () => {
    tdb = await createTestDatabase();
    database = openDatabase(tdb.url, 2);
    dataDir = await mkdtemp(path.join(tmpdir(), 'gw-devkey-'));
  }, 60_000);
  afterAll(async () => {
    for (const a of apps) await a.close();
    await database?.close();
    await tdb?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps one development key across restarts (secret 0600 in DATA_DIR) and replaces one the database lost', async () => {
    const key = await ensureDevApiKey(database.db, dataDir);
    expect(await verifyApiKey(database.db, key)).toMatchObject({ name: DEV_KEY_NAME });
    expect((await stat(path.join(dataDir, 'dev-api-key'))).mode & 0o777).toBe(0o600);
    expect(await ensureDevApiKey(database.db, dataDir)).toBe(key);

    await revokeApiKey(database.db, (await verifyApiKey(database.db, key))!.id);
    const next = await ensureDevApiKey(database.db, dataDir);
    expect(next).not.toBe(key);
    expect(await verifyApiKey(database.db, next)).not.toBeNull();
    expect((await readFile(path.join(dataDir, 'dev-api-key'), 'utf8')).trim()).toBe(next);
  });

  it('hands the development key to the web chat page, and the API accepts it', async () => {
    const key = await ensureDevApiKey(database.db, dataDir);
    const app = await startTestApp({ db: tdb, env: { WEB_CHAT: 'true' }, devApiKey: key });
    apps.push(app);
    const html = await (await fetch(`${app.url}/chat`)).text();
    expect(html).toContain(`<meta name="dev-api-key" content="${key}">`);
    const res = await fetch(`${app.url}/api/threads/search`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(200);
  }, 60_000);

  it('never hands a key to the page in production', async () => {
    const key = await ensureDevApiKey(database.db, dataDir);
    const app = await startTestApp({
      db: tdb,
      env: {
        NODE_ENV: 'production',
        WEB_CHAT: 'true',
        DATABASE_URL: tdb.url,
        REDIS_URL,
        LOCAL_API_KEY: 'production-local-key-0123',
      },
      devApiKey: key,
    });
    apps.push(app);
    const html = await (await fetch(`${app.url}/chat`)).text();
    expect(html).toContain('<meta name="dev-api-key" content="">');
    expect(html).not.toContain(key);
  }, 60_000);

  it("`npm run api-keys` creates and lists in the running dev gateway's database", async () => {
    const remove = await writeDevRecord(dataDir, { pid: process.pid, databaseUrl: tdb.url });
    try {
      const created = await run(['scripts/api-keys.ts', 'create', 'from-the-cli'], { DATA_DIR: dataDir });
      expect(created.code, created.err).toBe(0);
      const key = /gwk_[0-9a-f]{12}_[\w-]{43}/.exec(created.out)?.[0];
      expect(key).toBeDefined();
      expect(await verifyApiKey(database.db, key)).toMatchObject({ name: 'from-the-cli' });

      const listed = await run(['scripts/api-keys.ts', 'list'], { DATA_DIR: dataDir });
      expect(listed.code, listed.err).toBe(0);
      expect(listed.out).toContain('from-the-cli');
      expect(listed.out).toContain(DEV_KEY_NAME);
      expect((await listApiKeys(database.db)).map((k) => k.name)).toContain('from-the-cli');
    } finally {
      await remove();
    }
    expect(await readDevRecord(dataDir)).toBeNull();
  }, 120_000);

  it('ignores the record of a dev process that is gone', async () => {
    const dead = spawn('true');
    await new Promise((r) => dead.on('exit', r));
    await writeDevRecord(dataDir, { pid: dead.pid!, databaseUrl: 'postgres://nowhere' });
    expect(await readDevRecord(dataDir)).toBeNull();
  });
});
