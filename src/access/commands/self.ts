/**
 * Commands about one's own data: reset, usage, memory, forget, checkin. Some have admin forms naming another user
 * (`reset @user`, `memory @user`, `usage all`): `roleFor` raises the role those arguments need.
 */
import { DateTime } from 'luxon';
import { CommandError, defineCommand, type Role } from '../../commands/registry.js';
import type { CommandInvocation } from '../../core/adapter.js';
import { conversationKey } from '../../core/types.js';
import { dmConversationsOf, resetSession } from '../conversations.js';
import { resolveUser, showUser } from '../mentions.js';
import { userKeyOf } from '../policy.js';
import type { MemoryPort } from '../ports.js';
import { topUsage, usageBetween, usageOn, utcDay } from '../store.js';
import { fail, grammar } from './args.js';
import { say, type CommandDeps } from './deps.js';

const fmt = (n: number) => n.toLocaleString('en-US');

function unavailable(what: string): never {
  throw new CommandError(`${what} is not available on this gateway.`);
}

/** The user keys an admin form reaches: this tenant, and every tenant where the user has a DM with the bot. */
async function userKeysOf(d: CommandDeps, inv: CommandInvocation, user: string) {
  const named = await resolveUser(d, inv, user);
  const dms = await dmConversationsOf(d.db, named.platform, named.userId);
  const keys = [...new Set([named.userKey, ...dms.map((c) => userKeyOf(named.platform, c.ref.tenant, named.userId))])];
  return { named, keys, dms };
}

export function selfCommands(d: CommandDeps) {
  const reset = defineCommand<{ user?: string }>({
    name: 'reset',
    description: 'Start a new conversation (the bot forgets this chat history)',
    adminUsage: '[@user]',
    role: 'user',
    args: grammar((w) => {
      if (w.length > 1) fail('Name at most one user.');
      return { user: w[0] };
    }),
    // A group's session belongs to everyone in it: resetting it is an admin's call.
    roleFor: (a, inv): Role => (a.user || inv.conversation.kind === 'group' ? 'admin' : 'user'),
    async run(inv, a) {
      if (!a.user) {
        const done = await resetSession(d.db, conversationKey(inv.conversation));
        return say(
          done
            ? 'Started a new conversation: I no longer see our earlier messages here. (What I remember about you stays; see `/memory`.)'
            : 'There is nothing to reset here yet.',
        );
      }
      const named = await resolveUser(d, inv, a.user);
      const dms = await dmConversationsOf(d.db, named.platform, named.userId);
      let n = 0;
      for (const c of dms) if (await resetSession(d.db, c.key)) n++;
      return say(
        n
          ? `Started a new conversation for ${showUser(named.userId)} (${n} direct conversation${n === 1 ? '' : 's'}).`
          : `${showUser(named.userId)} has no direct conversation with me.`,
      );
    },
  });

  const usage = defineCommand<{ all: boolean }>({
    name: 'usage',
    description: 'Your tokens today and this month',
    adminUsage: '[all]',
    role: 'user',
    args: grammar((w) => {
      if (!w.length) return { all: false };
      if (w.length === 1 && ['all', 'top'].includes(w[0]!.toLowerCase())) return { all: true };
      return fail('Use `/usage`, or `/usage all` for everyone (admins).');
    }),
    roleFor: (a): Role => (a.all ? 'admin' : 'user'),
    async run(_inv, a, caller) {
      const now = new Date();
      const today = utcDay(now);
      if (a.all) {
        const top = await topUsage(d.db, today, 10);
        const priced = d.config.USAGE_PRICE_INPUT_PER_1K > 0 || d.config.USAGE_PRICE_OUTPUT_PER_1K > 0;
        const cost = (i: number, o: number) =>
          (i / 1000) * d.config.USAGE_PRICE_INPUT_PER_1K + (o / 1000) * d.config.USAGE_PRICE_OUTPUT_PER_1K;
        if (!top.length) return say(`No tokens used today (${today}, UTC).`);
        const total = top.reduce((t, r) => ({ i: t.i + r.inputTokens, o: t.o + r.outputTokens }), { i: 0, o: 0 });
        return say(
          [
            `**Usage today** (${today}, UTC) — top ${top.length}: ${fmt(total.i + total.o)} tokens${priced ? `, cost ${cost(total.i, total.o).toFixed(4)}` : ''}`,
            ...top.map(
              (r, i) =>
                `${i + 1}. \`${r.userKey}\` — ${fmt(r.inputTokens + r.outputTokens)} tokens (${fmt(r.inputTokens)} in, ${fmt(r.outputTokens)} out) in ${r.turns} turn${r.turns === 1 ? '' : 's'}${priced ? `, cost ${cost(r.inputTokens, r.outputTokens).toFixed(4)}` : ''}`,
            ),
          ].join('\n'),
        );
      }
      const day = await usageOn(d.db, caller.userKey, today);
      const month = await usageBetween(d.db, caller.userKey, `${today.slice(0, 8)}01`, today);
      const budget = d.config.USER_DAILY_TOKEN_BUDGET;
      const spent = day.inputTokens + day.outputTokens;
      return say(
        [
          `**Your usage** (UTC days)`,
          `- today: ${fmt(spent)} tokens in ${day.turns} turn${day.turns === 1 ? '' : 's'}${budget > 0 ? ` (daily budget ${fmt(budget)}, ${fmt(Math.max(0, budget - spent))} left)` : ''}`,
          `- this month: ${fmt(month.inputTokens + month.outputTokens)} tokens in ${month.turns} turn${month.turns === 1 ? '' : 's'}`,
        ].join('\n'),
      );
    },
  });

  /**
   * In a group, list only what was learned there or shared (DM memories stay in DMs), as recall does. An admin's
   * `/memory @user` lists everything only where the answer reaches the admin alone (ephemeral: Slack, Discord).
   */
  const listMemories = async (memory: MemoryPort, userKeys: string[], inv: CommandInvocation, admin: boolean) => {
    const privateAnswer = admin && d.adapters.get(inv.platform)?.capabilities.ephemeral === true;
    const where = inv.conversation.kind === 'dm' || privateAnswer ? undefined : conversationKey(inv.conversation);
    return (await Promise.all(userKeys.map((k) => memory.list(k, where)))).flat();
  };

  const memory = defineCommand<{ user?: string; forget?: string; share?: { id: string; on: boolean } }>({
    name: 'memory',
    description: 'What I remember about you; `share <id>` lets one be used in group chats too',
    usage: '[share|unshare <id>]',
    adminUsage: '[@user] [forget <id|all>]',
    role: 'user',
    args: grammar((w) => {
      if (!w.length) return {};
      const op = w[0]!.toLowerCase();
      if (op === 'share' || op === 'unshare') {
        if (w.length !== 2) fail(`Use \`/memory ${op} <id>\` (ids are listed by \`/memory\`).`);
        return { share: { id: w[1]!, on: op === 'share' } };
      }
      if (op === 'forget') {
        if (w.length !== 2) fail('Use `/memory forget <id|all>`.');
        return { forget: w[1]! };
      }
      if (w.length === 1) return { user: w[0]! };
      if (w.length === 3 && w[1]!.toLowerCase() === 'forget') return { user: w[0]!, forget: w[2]! };
      return fail('Use `/memory`, or `/memory @user [forget <id|all>]` (admins).');
    }),
    roleFor: (a): Role => (a.user ? 'admin' : 'user'),
    async run(inv, a, caller) {
      const mem = d.ports.memory ?? unavailable('Long-term memory');
      if (a.share) {
        const ok = await mem.share(caller.userKey, a.share.id, a.share.on);
        if (!ok) return say(`I have no memory \`${a.share.id}\` about you. See \`/memory\`.`);
        return say(
          a.share.on
            ? `Shared \`${a.share.id}\`: I may use it in group chats too.`
            : `\`${a.share.id}\` is private again: only where you told me.`,
        );
      }
      const { keys, named } = a.user ? await userKeysOf(d, inv, a.user) : { keys: [caller.userKey], named: undefined };
      const whose = named ? `${showUser(named.userId)}` : 'you';
      if (a.forget) {
        let n = 0;
        for (const k of keys) n += await mem.forget(k, a.forget.toLowerCase() === 'all' ? 'all' : a.forget);
        return say(
          n
            ? `Forgot ${n} memor${n === 1 ? 'y' : 'ies'} about ${whose}.`
            : `Nothing to forget: no memory \`${a.forget}\` about ${whose}.`,
        );
      }
      const items = await listMemories(mem, keys, inv, !!a.user);
      if (!items.length) return say(`I don't remember anything about ${whose} yet.`);
      return say(
        [
          `**What I remember about ${whose}** (${items.length})`,
          ...items.map((m) => `- \`${m.id}\` ${m.text}`),
          '',
          'Forget one with `/forget <id>`, or everything with `/forget all`.',
        ].join('\n'),
      );
    },
  });

  const forget = defineCommand<{ id: string }>({
    name: 'forget',
    description: 'Forget one memory, or all of them',
    usage: '<id|all>',
    role: 'user',
    args: grammar((w) => {
      if (w.length !== 1) fail('Say which memory to forget (its id from `/memory`), or `all`.');
      return { id: w[0]! };
    }),
    async run(_inv, a, caller) {
      const mem = d.ports.memory ?? unavailable('Long-term memory');
      const all = a.id.toLowerCase() === 'all';
      const n = await mem.forget(caller.userKey, all ? 'all' : a.id);
      if (all)
        return say(
          n
            ? `Forgot everything I remembered about you (${n} memor${n === 1 ? 'y' : 'ies'}).`
            : 'I did not remember anything about you.',
        );
      return say(n ? `Forgot \`${a.id}\`.` : `I have no memory \`${a.id}\` about you. See \`/memory\`.`);
    },
  });

  type CheckinArgs =
    | { op: 'show' }
    | { op: 'on' }
    | { op: 'off' }
    | { op: 'time'; time: string }
    | { op: 'timezone'; timezone: string }
    | { op: 'announcements'; on: boolean };
  const checkin = defineCommand<CheckinArgs>({
    name: 'checkin',
    description: 'Daily check-ins from the bot: on, off, time, timezone; announcements opt-in',
    usage: '[on|off|time HH:MM|timezone Area/City|announcements on|off]',
    role: 'user',
    args: grammar((w): CheckinArgs => {
      const [op, value, ...rest] = w.map((x, i) => (i === 0 ? x.toLowerCase() : x));
      if (!op) return { op: 'show' };
      if ((op === 'on' || op === 'off') && !value) return { op };
      const value2 = value?.toLowerCase();
      if (op === 'time' && value && !rest.length) {
        const m = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(value);
        if (!m) fail('Give the time as HH:MM, e.g. `/checkin time 09:30`.');
        return { op, time: `${m[1]!.padStart(2, '0')}:${m[2]}` };
      }
      if ((op === 'timezone' || op === 'tz') && value && !rest.length) {
        if (!DateTime.local().setZone(value).isValid)
          fail(`Unknown timezone \`${value}\`: use an IANA name like Europe/Berlin.`);
        return { op: 'timezone', timezone: value };
      }
      if (op === 'announcements' && (value2 === 'on' || value2 === 'off') && !rest.length)
        return { op, on: value2 === 'on' };
      return fail(
        'Use `/checkin`, `/checkin on`, `/checkin off`, `/checkin time HH:MM`, `/checkin timezone Area/City` or `/checkin announcements on|off`.',
      );
    }),
    // Changing a group's check-in affects everyone there.
    roleFor: (a, inv): Role => (a.op !== 'show' && inv.conversation.kind === 'group' ? 'admin' : 'user'),
    async run(inv, a) {
      const port = d.ports.checkins ?? unavailable('Check-ins');
      const ref = inv.conversation;
      if (a.op === 'off') return say((await port.disable(ref)) ? 'Check-ins are off.' : 'Check-ins were not on.');
      const view =
        a.op === 'show'
          ? await port.get(ref)
          : await port.set(
              ref,
              inv.user.id,
              a.op === 'on'
                ? { enabled: true }
                : a.op === 'time'
                  ? { time: a.time, enabled: true }
                  : a.op === 'timezone'
                    ? { timezone: a.timezone }
                    : { announcements: a.on },
            );
      if (!view)
        return say(
          'Check-ins are off. Turn them on with `/checkin on` (daily at 09:00; change with `/checkin time HH:MM`).',
        );
      const next = view.nextAt
        ? `; next ${DateTime.fromJSDate(view.nextAt, { zone: view.timezone }).toFormat('ccc yyyy-LL-dd HH:mm')} (${view.timezone})`
        : '';
      const why = !view.enabled && view.disabledReason ? ` (${view.disabledReason})` : '';
      const news = view.announcements === undefined ? '' : ` Announcements: ${view.announcements ? 'on' : 'off'}.`;
      return say(
        `Check-ins are **${view.enabled ? 'on' : 'off'}**${why}: ${view.time ? `daily at ${view.time}` : view.cadence}, timezone ${view.timezone}${view.enabled ? next : ''}.${news}`,
      );
    },
  });

  return [reset, usage, memory, forget, checkin];
}
