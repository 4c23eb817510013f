/**
 * The access settings from config, in the shapes the module uses: who owns and administers the bot (from
 * OWNER_USERS / ADMIN_USERS, `platform:userId`, any tenant), the DM policy of each platform, and the Redis keys.
 */
import type { Config } from '../config/env.js';
import type { Role } from '../commands/registry.js';
import type { Platform } from '../core/types.js';

export type DmPolicy = 'open' | 'allowlist' | 'pairing';

/** `platform:userId`: roles, bans and allows hold across tenants (Discord DMs have tenant "dm", guilds their id). */
export function principalOf(platform: string, userId: string): string {
  return `${platform}:${userId}`;
}

/** `platform:tenant:userId`, as TurnContext.userKey: usage and memory are kept per tenant. */
export function userKeyOf(platform: string, tenant: string, userId: string): string {
  return `${platform}:${tenant}:${userId}`;
}

export interface AccessPolicy {
  configRole(principal: string): Role | undefined;
  dmPolicy(platform: Platform): DmPolicy;
}

export function accessPolicy(config: Config): AccessPolicy {
  const owners = new Set(config.OWNER_USERS);
  const admins = new Set(config.ADMIN_USERS);
  const overrides: Partial<Record<Platform, DmPolicy | undefined>> = {
    local: config.DM_POLICY_LOCAL, slack: config.DM_POLICY_SLACK, discord: config.DM_POLICY_DISCORD, telegram: config.DM_POLICY_TELEGRAM,
  };
  return {
    // An API caller's user id is whatever its client sends: nothing it sends may grant a role.
    configRole: (p) => (p.startsWith('api:') ? undefined : owners.has(p) ? 'owner' : admins.has(p) ? 'admin' : undefined),
    // The agent API's threads are DMs, but its key is the authorisation: always open.
    dmPolicy: (platform) => (platform === 'api' ? 'open' : (overrides[platform] ?? config.DM_POLICY)),
  };
}

/** The access module's Redis keys are built by the one key owner. */
export { accessKeys, type AccessKeys } from '../queue/keys.js';
