/**
 * Key rotation: every sealed secret (Slack installations, extra bots) is read with whichever key sealed it (the
 * current or a previous one) and sealed again with the current key, row by row, each in its own retried
 * transaction that re-reads the row, so a row changed meanwhile is rotated as it is now. Rows already under the
 * current key are left alone: the command can be run again after an interruption.
 */
import type { Sql } from 'postgres';
import { retrySerializable } from '../db/retry.js';
import { sealedBotBinding } from './bots.js';
import type { TokenCipher } from './token-cipher.js';

export interface RotationResult {
  slackInstallations: number;
  bots: number;
}

/** `slack` re-seals installations, `bots` the extra bots (the same cipher unless BOT_TOKEN_ENCRYPTION_KEY is set). */
export async function rotateSealedSecrets(
  sql: Sql,
  ciphers: { slack?: TokenCipher; bots?: TokenCipher },
): Promise<RotationResult> {
  const result: RotationResult = { slackInstallations: 0, bots: 0 };
  const cipher = ciphers.slack;
  const installs = !cipher
    ? []
    : await retrySerializable(() => sql<{ install_key: string }[]>`select install_key from slack_installations`);
  for (const { install_key: key } of installs) {
    const did = await retrySerializable(() =>
      sql.begin(async (tx) => {
        const [row] = await tx<{ sealed: string }[]>`select sealed from slack_installations where install_key = ${key}`;
        if (!row || !cipher || cipher.keyIdOf(row.sealed) === cipher.keyId) return false;
        const sealed = cipher.encrypt(cipher.decrypt(row.sealed, key), key);
        await tx`update slack_installations set sealed = ${sealed}, updated_at = now() where install_key = ${key}`;
        return true;
      }),
    );
    if (did) result.slackInstallations++;
  }
  const botCipher = ciphers.bots;
  const bots = !botCipher
    ? []
    : await retrySerializable(() => sql<{ platform: string; name: string }[]>`select platform, name from bots`);
  for (const { platform, name } of bots) {
    const bound = sealedBotBinding(platform, name);
    const did = await retrySerializable(() =>
      sql.begin(async (tx) => {
        const [row] = await tx<
          { sealed: string }[]
        >`select sealed from bots where platform = ${platform} and name = ${name}`;
        if (!row || !botCipher || botCipher.keyIdOf(row.sealed) === botCipher.keyId) return false;
        const sealed = botCipher.encrypt(botCipher.decrypt(row.sealed, bound), bound);
        await tx`update bots set sealed = ${sealed} where platform = ${platform} and name = ${name}`;
        return true;
      }),
    );
    if (did) result.bots++;
  }
  return result;
}
