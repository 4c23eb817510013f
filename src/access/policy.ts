/**
 * The access settings from config, in the shapes the module uses: who owns and administers the bot (from
 * OWNER_USERS / ADMIN_USERS, `platform:userId`, any tenant), the DM policy of each platform, and the Redis keys.
 */
import type { Config } from '../config/env.js';
import type { Role } from '../commands/registry.js';
import type { AdapterRegistry } from '../core/registry.js';
import { platformOfKey, type Platform } from '../core/types.js';

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

/** `adapters` is read when a policy is asked (modules add their adapters after the access module is built). */
export function accessPolicy(config: Config, adapters: Pick<AdapterRegistry, 'get'>): AccessPolicy {
  const owners = new Set(config.OWNER_USERS);
  const admins = new Set(config.ADMIN_USERS);
  const overrides: Partial<Record<Platform, DmPolicy | undefined>> = {
    local: config.DM_POLICY_LOCAL,
    slack: config.DM_POLICY_SLACK,
    discord: config.DM_POLICY_DISCORD,
    telegram: config.DM_POLICY_TELEGRAM,
  };
  return {
    // On a channel that authorises its callers itself (the agent API) a user id is whatever the client sends:
    // nothing it sends may grant a role.
    configRole: (p) =>
      adapters.get(platformOfKey(p))?.capabilities.authorisesCallers
        ? undefined
        : owners.has(p)
          ? 'owner'
          : admins.has(p)
            ? 'admin'
            : undefined,
    // A channel that authorises its callers itself (the agent API's threads are DMs, its key is the
    // authorisation): always open.
    dmPolicy: (platform) =>
      adapters.get(platform)?.capabilities.authorisesCallers ? 'open' : (overrides[platform] ?? config.DM_POLICY),
  };
}

/** The access module's Redis keys are built by the one key owner. */
export { accessKeys, type AccessKeys } from '../queue/keys.js';
