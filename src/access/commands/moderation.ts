/** Who may use the bot: ban, unban, allow (pairing codes or a user), and the owner's grant / revoke. */
import { CommandError, defineCommand } from '../../commands/registry.js';
import { conversationKey } from '../../core/types.js';
import { postAsBot } from '../conversations.js';
import { resolveUser, showUser } from '../mentions.js';
import { looksLikeCode, takePairing } from '../pairing.js';
import { standingOf } from '../standing.js';
import { updateUser } from '../store.js';
import { fail, grammar, oneUser, userAndReason } from './args.js';
import { say, type CommandDeps } from './deps.js';

export const APPROVED_TEXT = 'Good news: an admin approved you. Go ahead and write to me again.';

export function moderationCommands(d: CommandDeps) {
  const ban = defineCommand<{ user: string; reason?: string }>({
    name: 'ban',
    description: 'Ignore everything a user writes (their messages are consumed silently)',
    usage: '@user [reason]',
    role: 'admin',
    args: userAndReason,
    async run(inv, a, caller) {
      const named = await resolveUser(d, inv, a.user);
      const target = await standingOf(d.db, d.policy, named.principal);
      if (target.role !== 'user')
        throw new CommandError(
          `${showUser(named.userId)} is ${target.role === 'owner' ? 'an owner' : 'an admin'}: an owner must revoke that role first.`,
        );
      await updateUser(d.db, named.principal, { banned: true }, caller.principal);
      return say(
        `Banned ${showUser(named.userId)}${a.reason ? ` (${a.reason})` : ''}. I will ignore their messages until \`/unban\`.`,
      );
    },
  });

  const unban = defineCommand({
    name: 'unban',
    description: 'Lift a ban',
    usage: '@user',
    role: 'admin',
    args: oneUser,
    async run(inv, user, caller) {
      const named = await resolveUser(d, inv, user);
      await updateUser(d.db, named.principal, { banned: false }, caller.principal);
      return say(`${showUser(named.userId)} is no longer banned.`);
    },
  });

  const noPending = (token: string, more = '') =>
    new CommandError(
      `No pending pairing code \`${token}\` (codes expire after ${Math.round(d.config.PAIRING_CODE_TTL_SECONDS / 60)} minutes)${more}.`,
    );

  const allow = defineCommand({
    name: 'allow',
    description: 'Approve a pairing code, or let a user DM the bot',
    usage: '<code|@user>',
    role: 'admin',
    args: oneUser,
    async run(inv, token, caller) {
      if (looksLikeCode(token)) {
        const req = await takePairing(d.redis, d.keys, token);
        if (req) {
          await updateUser(d.db, req.principal, { allowed: true }, caller.principal, req.name);
          // Tell them, through the outbound path (durable, paced); the id makes a repeat harmless.
          const key = conversationKey(req.ref);
          if (
            (await postAsBot(d.db, key, APPROVED_TEXT, {
              id: `allow:${token.toUpperCase()}:${req.principal}`,
              outcome: 'approved',
            })) === 'posted'
          ) {
            await d.queues.scheduleDelivery(key);
          }
          return say(`Approved ${req.name ? `${req.name} ` : ''}(\`${req.principal}\`). They can write to me now.`);
        }
        // A used or expired code must not fall through to "a user id" (on some platforms any word is one, and a
        // code like UEPAVM reads as a Slack member id): that would silently allow a user who does not exist.
        // A user whose id happens to look like a code is still named by mention (<@…>, @username).
        throw noPending(token);
      }
      let named;
      try {
        named = await resolveUser(d, inv, token);
      } catch {
        throw noPending(token, ', and it does not name a user');
      }
      await updateUser(d.db, named.principal, { allowed: true }, caller.principal);
      return say(`${showUser(named.userId)} may now write to me.`);
    },
  });

  const grant = defineCommand<{ user: string; role: 'admin' | 'owner' }>({
    name: 'grant',
    description: 'Make a user an admin or an owner',
    usage: '@user <admin|owner>',
    role: 'owner',
    args: grammar((w) => {
      const role = w[1]?.toLowerCase();
      if (w.length !== 2 || (role !== 'admin' && role !== 'owner'))
        fail('Use `/grant @user admin` or `/grant @user owner`.');
      return { user: w[0]!, role };
    }),
    async run(inv, a, caller) {
      const named = await resolveUser(d, inv, a.user);
      await updateUser(d.db, named.principal, { role: a.role, banned: false }, caller.principal);
      const now = await standingOf(d.db, d.policy, named.principal);
      return say(
        `${showUser(named.userId)} is now ${now.role === 'owner' ? 'an owner' : 'an admin'}${now.role !== a.role ? ' (from config)' : ''}.`,
      );
    },
  });

  const revoke = defineCommand({
    name: 'revoke',
    description: "Take away a user's granted role and allowlist entry",
    usage: '@user',
    role: 'owner',
    args: oneUser,
    async run(inv, user, caller) {
      const named = await resolveUser(d, inv, user);
      await updateUser(d.db, named.principal, { role: null, allowed: false }, caller.principal);
      const now = await standingOf(d.db, d.policy, named.principal);
      if (now.fromConfig)
        return say(
          `Revoked what was granted, but ${showUser(named.userId)} is still ${now.role === 'owner' ? 'an owner' : 'an admin'} from config (OWNER_USERS / ADMIN_USERS).`,
        );
      return say(`${showUser(named.userId)} is a regular user now.`);
    },
  });

  return [ban, unban, allow, grant, revoke];
}
