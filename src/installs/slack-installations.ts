/**
 * Slack workspaces installed through the OAuth flow, in Postgres / CockroachDB: @slack/oauth's `InstallationStore`
 * (what `InstallProvider` writes after `oauth.v2.access`), plus the lookups the adapter needs (a workspace's bot
 * token by team id, forgetting a workspace on `app_uninstalled` / `tokens_revoked`). The whole installation (bot
 * and user tokens, refresh tokens) is sealed with the token cipher; only ids stay readable, for lookups and lists.
 * Single statements, each retried on 40001.
 */
import type { Installation, InstallationQuery, InstallationStore } from '@slack/oauth';
import type { Sql } from 'postgres';
import { retrySerializable } from '../db/retry.js';
import type { TokenCipher } from './token-cipher.js';

/** Org-wide (Enterprise Grid) installs are keyed by enterprise, the others by workspace. */
export function installKey(q: { teamId?: string; enterpriseId?: string; isEnterpriseInstall?: boolean }): string {
  if (q.isEnterpriseInstall && q.enterpriseId) return `E:${q.enterpriseId}`;
  if (q.teamId) return `T:${q.teamId}`;
  throw new Error('slack installation without a team or enterprise id');
}

export interface InstalledWorkspace {
  teamId: string | null;
  enterpriseId: string | null;
  botUserId: string | null;
  installedAt: Date;
}

export interface SlackInstallations extends InstallationStore {
  /** The workspace's bot token, or undefined when it is not installed. */
  botToken(teamId: string): Promise<string | undefined>;
  /** Forget a workspace (uninstalled, or its bot token revoked). True when there was one. */
  remove(teamId: string): Promise<boolean>;
  list(): Promise<InstalledWorkspace[]>;
}

interface Row {
  install_key: string;
  team_id: string | null;
  enterprise_id: string | null;
  bot_user_id: string | null;
  sealed: string;
  installed_at: Date;
}

export function createSlackInstallations(sql: Sql, cipher: TokenCipher): SlackInstallations {
  const read = async (key: string): Promise<Installation | undefined> => {
    const [row] = await retrySerializable(
      () => sql<Row[]>`select * from slack_installations where install_key = ${key}`,
    );
    return row ? (JSON.parse(cipher.decrypt(row.sealed, key)) as Installation) : undefined;
  };
  const fetchInstallation = async (q: InstallationQuery<boolean>): Promise<Installation> => {
    const found = await read(installKey(q));
    if (!found) throw new Error('slack workspace not installed');
    return found;
  };
  return {
    async storeInstallation(installation) {
      const key = installKey({
        teamId: installation.team?.id,
        enterpriseId: installation.enterprise?.id,
        isEnterpriseInstall: installation.isEnterpriseInstall,
      });
      const sealed = cipher.encrypt(JSON.stringify(installation), key);
      const team = installation.team?.id ?? null;
      const enterprise = installation.enterprise?.id ?? null;
      const botUser = installation.bot?.userId ?? null;
      // ON CONFLICT DO UPDATE: one statement, the same on Postgres and CockroachDB.
      await retrySerializable(
        () => sql`
          insert into slack_installations (install_key, team_id, enterprise_id, bot_user_id, sealed)
          values (${key}, ${team}, ${enterprise}, ${botUser}, ${sealed})
          on conflict (install_key) do update set team_id = excluded.team_id, enterprise_id = excluded.enterprise_id,
            bot_user_id = excluded.bot_user_id, sealed = excluded.sealed, updated_at = now()`,
      );
    },
    fetchInstallation,
    async deleteInstallation(q) {
      const key = installKey(q);
      await retrySerializable(() => sql`delete from slack_installations where install_key = ${key}`);
    },
    async botToken(teamId) {
      const found = await read(installKey({ teamId }));
      return found?.bot?.token;
    },
    async remove(teamId) {
      const key = installKey({ teamId });
      const rows = await retrySerializable(
        () => sql`delete from slack_installations where install_key = ${key} returning install_key`,
      );
      return rows.length > 0;
    },
    async list() {
      const rows = await retrySerializable(
        () =>
          sql<
            Row[]
          >`select team_id, enterprise_id, bot_user_id, installed_at from slack_installations order by installed_at`,
      );
      return rows.map((r) => ({
        teamId: r.team_id,
        enterpriseId: r.enterprise_id,
        botUserId: r.bot_user_id,
        installedAt: r.installed_at,
      }));
    },
  };
}
