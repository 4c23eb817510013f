/**
 * Sealed tokens at rest and the key rotation command, on a real database: a Slack installation and an extra bot
 * sealed under the old key are re-sealed under the new one by `rotate-token-key` (the CLI's function, driven by
 * configuration as the command is), after which the new key alone reads them and the old key reads nothing.
 */
import type { Installation } from '@slack/oauth';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rotateTokenKey } from '../../src/cli/rotate-token-key.js';
import { createBotStore } from '../../src/installs/bots.js';
import { createSlackInstallations } from '../../src/installs/slack-installations.js';
import { createTokenCipher, parseKey } from '../../src/installs/token-cipher.js';
import { createTestDatabase, testConfig, type TestDatabase } from '../helpers/services.js';

const OLD = 'aa'.repeat(32);
const NEW = Buffer.alloc(32, 7).toString('base64');
const cipher = (k: string, prev: string[] = []) =>
  createTokenCipher(
    parseKey(k, 'key'),
    prev.map((p) => parseKey(p, 'key')),
  );
const installation = {
  team: { id: 'TROTATE01', name: 'Rotate' },
  enterprise: undefined,
  user: { id: 'U1', token: undefined, scopes: undefined },
  bot: { token: 'xoxb-rotate-me', scopes: ['chat:write'], userId: 'UB1', id: 'B1' },
  isEnterpriseInstall: false,
  authVersion: 'v2',
} as unknown as Installation;

let db: TestDatabase;
let sql: postgres.Sql;

beforeAll(async () => {
  db = await createTestDatabase();
  sql = postgres(db.url, { max: 2, onnotice: () => undefined });
});
afterAll(async () => {
  await sql?.end();
  await db?.drop();
});

describe('sealed tokens and key rotation', () => {
  it('re-seals every token under the new key; the old key then reads nothing', async () => {
    await createSlackInstallations(sql, cipher(OLD)).storeInstallation(installation);
    await createBotStore(sql, cipher(OLD)).put('telegram', 'second', '987654321', { token: '987654321:SECRET-x' });
    const [row] = await sql<{ sealed: string }[]>`select sealed from slack_installations`;
    expect(row!.sealed).not.toContain('xoxb');

    // Before: the new key alone cannot read them.
    await expect(createSlackInstallations(sql, cipher(NEW)).botToken('TROTATE01')).rejects.toThrow(/unknown key/);

    const config = testConfig({
      DATABASE_URL: db.url,
      SLACK_TOKEN_ENCRYPTION_KEY: NEW,
      SLACK_TOKEN_ENCRYPTION_KEY_PREVIOUS: OLD,
    });
    await rotateTokenKey(config);

    expect(await createSlackInstallations(sql, cipher(NEW)).botToken('TROTATE01')).toBe('xoxb-rotate-me');
    expect((await createBotStore(sql, cipher(NEW)).list('telegram'))[0]!.token).toBe('987654321:SECRET-x');
    await expect(createSlackInstallations(sql, cipher(OLD)).botToken('TROTATE01')).rejects.toThrow(/unknown key/);
  });

  it('a sealed token copied into another row does not open there', async () => {
    const store = createSlackInstallations(sql, cipher(NEW));
    await store.storeInstallation({ ...installation, team: { id: 'TOTHER001', name: 'Other' } } as Installation);
    await sql`update slack_installations set sealed = (select sealed from slack_installations where team_id = 'TROTATE01') where team_id = 'TOTHER001'`;
    await expect(store.botToken('TOTHER001')).rejects.toThrow();
  });
});
