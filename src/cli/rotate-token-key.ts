/**
 * `node dist/gateway.mjs rotate-token-key` (`npm run token-key:rotate`): after setting the new key in
 * SLACK_TOKEN_ENCRYPTION_KEY (and BOT_TOKEN_ENCRYPTION_KEY, if used) and the old one in
 * SLACK_TOKEN_ENCRYPTION_KEY_PREVIOUS, re-seal every stored token under the new key. Safe to run again; once it
 * has run (and every process runs with the new key), the previous key can be dropped.
 */
import type { Config } from '../config/env.js';
import { openDatabase } from '../db/client.js';
import { botTokenCipher, slackTokenCipher } from '../installs/keys.js';
import { rotateSealedSecrets } from '../installs/rotate.js';

export async function rotateTokenKey(config: Config): Promise<void> {
  if (!config.DATABASE_URL) throw new Error('rotate-token-key: DATABASE_URL is not set');
  const db = openDatabase(config.DATABASE_URL, 1);
  try {
    const result = await rotateSealedSecrets(db.sql, {
      ...(config.SLACK_TOKEN_ENCRYPTION_KEY ? { slack: slackTokenCipher(config) } : {}),
      ...(botTokenCipher(config) ? { bots: botTokenCipher(config) } : {}),
    });
    console.log(
      `re-sealed ${result.slackInstallations} Slack installation(s) and ${result.bots} bot(s) under the current key`,
    );
  } finally {
    await db.close();
  }
}
