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
    local: config.DM_POLICY_LOCAL, slack: config.DM_POLICY_SLACK, discord: config.DM_POLICY_DISCORD, telegram: config.DM_POLICY_TELEGRAM,
  };
  return {
    // On a channel that authorises its callers itself (the agent API) a user id is whatever the client sends:
    // nothing it sends may grant a role.
    configRole: (p) => (adapters.get(platformOfKey(p))?.capabilities.authorisesCallers
      ? undefined
      : owners.has(p) ? 'owner' : admins.has(p) ? 'admin' : undefined),
    // A channel that authorises its callers itself (the agent API's threads are DMs, its key is the
    // authorisation): always open.
    dmPolicy: (platform) => (adapters.get(platform)?.capabilities.authorisesCallers
      ? 'open'
      : (overrides[platform] ?? config.DM_POLICY)),
  };
}

/** Redis keys of the access module, all under the configured prefix. */
export interface AccessKeys {
  pause: string;
  pauseNotice(epoch: string, conversationKey: string): string;
  pairCode(code: string): string;
  pairBy(principal: string): string;
  bucket(principal: string): string;
  /** Message ids already charged to the bucket (so a re-run turn is not charged twice). */
  charged(principal: string): string;
  rateNotice(principal: string): string;
  loop(conversationKey: string, minute: number): string;
  loopMark(conversationKey: string, turnMark: string, minute: number): string;
}

export function accessKeys(prefix: string): AccessKeys {
  const p = `${prefix}:access`;
  return {
    pause: `${p}:pause`,
    pauseNotice: (epoch, c) => `${p}:pause-notice:${epoch}:${c}`,
    pairCode: (code) => `${p}:pair:${code}`,
    pairBy: (principal) => `${p}:pair-by:${principal}`,
    bucket: (principal) => `${p}:bucket:${principal}`,
    charged: (principal) => `${p}:charged:${principal}`,
    rateNotice: (principal) => `${p}:rate-notice:${principal}`,
    loop: (c, minute) => `${p}:loop:${c}:${minute}`,
    loopMark: (c, mark, minute) => `${p}:loop-mark:${c}:${minute}:${mark}`,
  };
}
