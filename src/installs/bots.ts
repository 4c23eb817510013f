/**
 * Extra bots of a platform in this deployment (beyond the one in the environment), added and removed at run time
 * by an admin. The table is the truth every gateway and worker reconciles from; tokens are sealed at rest.
 * `tenant` is the platform's id of the bot (Telegram: the number before the token's colon, the tenant of its
 * conversations; Discord: the application id, which prefixes its conversations' tenants), so two bots never share
 * a session, memory, budget or audit key.
 */
import { createHash } from 'node:crypto';
import type { Sql } from 'postgres';
import { retrySerializable } from '../db/retry.js';
import type { TokenCipher } from './token-cipher.js';

export interface BotSecrets {
  token: string;
  /** Webhook mode: the secret the platform echoes on every delivery. Absent: the bot is polled. */
  webhookSecret?: string;
  /** Discord: the application's public key, for its interactions' signatures. */
  publicKey?: string;
}

export interface BotRecord extends BotSecrets {
  platform: string;
  name: string;
  tenant: string;
  createdAt: Date;
}

export interface BotStore {
  list(platform: string): Promise<BotRecord[]>;
  /** Add (or replace) a bot by name. */
  put(platform: string, name: string, tenant: string, secrets: BotSecrets): Promise<void>;
  remove(platform: string, name: string): Promise<boolean>;
}

/** Changes whenever a bot's token or webhook secret does (a fleet rebuilds the bot), and reveals neither. */
export function secretsVersion(s: BotSecrets): string {
  return createHash('sha256')
    .update(JSON.stringify([s.token, s.webhookSecret ?? '', s.publicKey ?? '']))
    .digest('hex')
    .slice(0, 16);
}

interface Row {
  platform: string;
  name: string;
  tenant: string;
  sealed: string;
  created_at: Date;
}

/** What a bot's sealed secrets are bound to (see token-cipher.ts). */
export const sealedBotBinding = (platform: string, name: string) => `bot:${platform}:${name}`;

export function createBotStore(sql: Sql, cipher: TokenCipher): BotStore {
  return {
    async list(platform) {
      const rows = await retrySerializable(
        () => sql<Row[]>`select * from bots where platform = ${platform} order by created_at, name`,
      );
      return rows.map((r) => ({
        platform: r.platform,
        name: r.name,
        tenant: r.tenant,
        createdAt: r.created_at,
        ...(JSON.parse(cipher.decrypt(r.sealed, sealedBotBinding(r.platform, r.name))) as BotSecrets),
      }));
    },
    async put(platform, name, tenant, secrets) {
      const sealed = cipher.encrypt(JSON.stringify(secrets), sealedBotBinding(platform, name));
      await retrySerializable(
        () => sql`
          insert into bots (platform, name, tenant, sealed) values (${platform}, ${name}, ${tenant}, ${sealed})
          on conflict (platform, name) do update set tenant = excluded.tenant, sealed = excluded.sealed`,
      );
    },
    async remove(platform, name) {
      const rows = await retrySerializable(
        () => sql`delete from bots where platform = ${platform} and name = ${name} returning name`,
      );
      return rows.length > 0;
    },
  };
}
