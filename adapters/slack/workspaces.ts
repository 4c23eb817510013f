/**
 * Which token answers a workspace: its own, when it installed the app through the OAuth flow, else the
 * deployment's SLACK_BOT_TOKEN for the workspace that token belongs to (learned once with auth.test), so a
 * single-workspace app keeps working with that alone and no other workspace is ever answered with it. Tokens are cached briefly
 * per process (a send reads one row otherwise); an uninstall seen here drops the entry at once, one seen by
 * another replica within the cache time, and until then Slack refuses the old token (a permanent send error).
 */
import type { InstallationStore } from '@slack/oauth';
import { PermanentSendError } from '../../src/core/errors.js';
import type { TokenLookup } from './client.js';

/** What the adapter needs of the installation store (src/installs/slack-installations.ts implements it). */
export interface SlackWorkspaces extends InstallationStore {
  botToken(teamId: string): Promise<string | undefined>;
  remove(teamId: string): Promise<boolean>;
}

/** A workspace with no installation and no fallback token: nothing can be sent there, nor read from it. */
export class SlackNotInstalledError extends PermanentSendError {
  constructor() {
    super('forbidden', 'slack: workspace not installed');
  }
}

const CACHE_MS = 30_000;

export interface Fallback {
  token: string;
  /** The team the token belongs to (auth.test). */
  team(): Promise<string | undefined>;
}

export function workspaceTokens(store: SlackWorkspaces, fallback: Fallback | undefined) {
  const cache = new Map<string, { token: string; until: number }>();
  let fallbackTeam: Promise<string | undefined> | undefined;
  const isFallbackTeam = async (team: string) => {
    if (!fallback) return false;
    if (!team) return true;
    fallbackTeam ??= fallback.team().catch(() => {
      fallbackTeam = undefined; // asked again on the next lookup
      return undefined;
    });
    return (await fallbackTeam) === team;
  };
  const tokenFor: TokenLookup = async (team) => {
    const hit = cache.get(team);
    if (hit && hit.until > Date.now()) return hit.token;
    const token = team ? await store.botToken(team) : undefined;
    if (token) {
      cache.set(team, { token, until: Date.now() + CACHE_MS });
      return token;
    }
    if (fallback && (await isFallbackTeam(team))) return fallback.token;
    throw new SlackNotInstalledError();
  };
  return {
    tokenFor,
    forget: (team: string) => void cache.delete(team),
    async remove(team: string): Promise<boolean> {
      cache.delete(team);
      return store.remove(team);
    },
  };
}
