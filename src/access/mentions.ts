/**
 * Arguments that name a user accept that platform's mention form:
 *   Slack    `<@U123>`, `<@U123|name>` (slash command text with escaping on), or the member id `U123`
 *   Discord  `<@123>`, `<@!123>` (a mention typed into the `args` option arrives like this), or the id
 *   Telegram `@username` (mapped to an id from messages the bot has seen: Telegram mentions carry no id), or the id
 *   local    the plain user id
 * A user is then `platform:userId` for roles and bans (see policy.ts) on the invoking platform.
 */
import { CommandError } from '../commands/registry.js';
import type { CommandInvocation } from '../core/adapter.js';
import type { Db } from '../db/client.js';
import { principalOf, userKeyOf } from './policy.js';
import { userIdForUsername } from './store.js';

export type UserRef = { kind: 'id'; id: string } | { kind: 'username'; username: string };

/** Syntax only; undefined when `token` is not a user in this platform's forms. */
export function parseUserRef(platform: string, token: string): UserRef | undefined {
  const t = token.trim();
  switch (platform) {
    case 'slack': {
      const m = /^<@([UW][A-Z0-9]{2,})(?:\|[^>]*)?>$/.exec(t) ?? /^([UW][A-Z0-9]{2,})$/.exec(t);
      return m ? { kind: 'id', id: m[1]! } : undefined;
    }
    case 'discord': {
      const m = /^<@!?(\d{5,25})>$/.exec(t) ?? /^(\d{5,25})$/.exec(t);
      return m ? { kind: 'id', id: m[1]! } : undefined;
    }
    case 'telegram': {
      const u = /^@([A-Za-z0-9_]{3,32})$/.exec(t);
      if (u) return { kind: 'username', username: u[1]!.toLowerCase() };
      const id = /^(\d{1,20})$/.exec(t);
      return id ? { kind: 'id', id: id[1]! } : undefined;
    }
    default:
      return t && !/\s/.test(t) ? { kind: 'id', id: t } : undefined;
  }
}

const FORMS: Record<string, string> = {
  slack:
    'a mention like <@U123> or a member id (if Slack sent a plain @name, the slash command needs "Escape channels, users, and links" on)',
  discord: 'a mention like <@123> or a user id',
  telegram: '@username or a numeric user id',
};

export interface NamedUser {
  platform: string;
  userId: string;
  /** `platform:userId` */
  principal: string;
  /** `platform:tenant:userId` in the invoking tenant. */
  userKey: string;
}

/** Resolve a user argument on the invoking platform; a CommandError says what went wrong in the user's words. */
export async function resolveUser(db: Db, inv: CommandInvocation, token: string): Promise<NamedUser> {
  const ref = parseUserRef(inv.platform, token);
  if (!ref)
    throw new CommandError(`\`${token}\` does not name a user here: use ${FORMS[inv.platform] ?? 'their user id'}.`);
  let userId: string;
  if (ref.kind === 'username') {
    const found = await userIdForUsername(db, inv.platform, ref.username);
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
