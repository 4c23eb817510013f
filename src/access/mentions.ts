/**
 * Arguments that name a user accept that platform's mention forms, which its adapter declares
 * (`ChannelAdapter.mentions`, in adapters/<platform>/parse.ts: `<@U123>` on Slack, `<@123>` on Discord,
 * `@username` on Telegram, mapped to an id from messages the bot has seen); elsewhere the plain user id.
 * A user is then `platform:userId` for roles and bans (see policy.ts) on the invoking platform.
 */
import { CommandError } from '../commands/registry.js';
import type { CommandInvocation, MentionSyntax } from '../core/adapter.js';
import type { AdapterRegistry } from '../core/registry.js';
import type { Platform } from '../core/types.js';
import type { Db } from '../db/client.js';
import { principalOf, userKeyOf } from './policy.js';
import { userIdForUsername } from './store.js';

/** Where the invoking platform's mention forms come from: its adapter (`ChannelAdapter.mentions`). */
export interface MentionDeps {
  db: Db;
  adapters: AdapterRegistry;
}

/** A platform without mention forms of its own (local, api): the plain user id. */
const PLAIN_ID: MentionSyntax = {
  parse: (token) => {
    const t = token.trim();
    return t && !/\s/.test(t) ? { kind: 'id', id: t } : undefined;
  },
  forms: 'their user id',
};

export function mentionSyntax(adapters: AdapterRegistry, platform: string): MentionSyntax {
  return adapters.get(platform as Platform)?.mentions ?? PLAIN_ID;
}

export interface NamedUser {
  platform: string;
  userId: string;
  /** `platform:userId` */
  principal: string;
  /** `platform:tenant:userId` in the invoking tenant. */
  userKey: string;
}

/** Resolve a user argument on the invoking platform; a CommandError says what went wrong in the user's words. */
export async function resolveUser(d: MentionDeps, inv: CommandInvocation, token: string): Promise<NamedUser> {
  const syntax = mentionSyntax(d.adapters, inv.platform);
  const ref = syntax.parse(token);
  if (!ref) throw new CommandError(`\`${token}\` does not name a user here: use ${syntax.forms}.`);
  let userId: string;
  if (ref.kind === 'username') {
    const found = await userIdForUsername(d.db, inv.platform, ref.username);
    if (!found)
      throw new CommandError(
        `I don't know @${ref.username} yet: they need to write to me once, or use their numeric id.`,
      );
    userId = found;
  } else {
    userId = ref.id;
  }
  return {
    platform: inv.platform,
    userId,
    principal: principalOf(inv.platform, userId),
    userKey: userKeyOf(inv.platform, inv.tenant, userId),
  };
}

/** How a user is shown back in answers: the plain id (mention syntax differs per platform and may ping). */
export function showUser(userId: string): string {
  return `\`${userId}\``;
}
