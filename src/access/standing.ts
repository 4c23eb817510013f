/**
 * Where a person stands: their role (config owners/admins, or granted by an owner and stored), whether they are
 * allowed to DM the bot under a restrictive DM policy, and whether they are banned. One primary-key read.
 * Admins and owners are always allowed and cannot be banned (an owner revokes the role first).
 */
import { atLeast, type Caller, type Role } from '../commands/registry.js';
import type { CommandInvocation } from '../core/adapter.js';
import type { Db } from '../db/client.js';
import { principalOf, userKeyOf, type AccessPolicy } from './policy.js';
import { getUser, isRole, type AccessUser } from './store.js';

export interface Standing {
  principal: string;
  role: Role;
  /** Granted a role in config (cannot be changed with /grant or /revoke). */
  fromConfig: boolean;
  allowed: boolean;
  banned: boolean;
}

export async function standingOf(db: Db, policy: AccessPolicy, principal: string): Promise<Standing> {
  return standingFrom(policy, principal, await getUser(db, principal));
}

/** The same, from a row already read (the turn's one read, src/access/gate.ts). */
export function standingFrom(
  policy: AccessPolicy,
  principal: string,
  row: Pick<AccessUser, 'role' | 'allowed' | 'banned'> | undefined,
): Standing {
  const configured = policy.configRole(principal);
  const stored: Role = isRole(row?.role) ? row.role : 'user';
  const role: Role = configured && atLeast(configured, stored) ? configured : stored;
  const privileged = role !== 'user';
  return {
    principal,
    role,
    fromConfig: configured !== undefined,
    allowed: privileged || !!row?.allowed,
    banned: !privileged && !!row?.banned,
  };
}

export const BANNED_TEXT = "Sorry, you can't use this bot.";

export function notAllowedText(policy: 'allowlist' | 'pairing'): string {
  return policy === 'pairing'
    ? 'This bot is private. Send me a direct message to get a pairing code, then ask an admin to approve it.'
    : 'This bot is private: ask an admin to allow you.';
}

/** The registry's view of whoever runs a command. */
export function commandCaller(db: Db, policy: AccessPolicy) {
  return async (inv: CommandInvocation): Promise<Caller> => {
    const principal = principalOf(inv.platform, inv.user.id);
    const s = await standingOf(db, policy, principal);
    const caller: Caller = { principal, userKey: userKeyOf(inv.platform, inv.tenant, inv.user.id), role: s.role };
    if (s.banned) return { ...caller, blocked: BANNED_TEXT };
    const dm = policy.dmPolicy(inv.platform);
    if (inv.conversation.kind === 'dm' && dm !== 'open' && !s.allowed)
      return { ...caller, blocked: notAllowedText(dm) };
    return caller;
  };
}
