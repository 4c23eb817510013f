/**
 * The access module's turn hooks. `beforeRun`, first in hook order, decides in this order:
 *   1. maintenance pause  -> defer (nothing consumed); one notice per conversation per pause
 *   2. bans               -> consumed silently when every person in the batch is banned
 *   3. DM policy          -> allowlist: a polite refusal; pairing: a code and nothing else
 *   4. per sender: bans, the rate limit (token bucket per person, one token per message, charged once) and the
 *      daily token budget. A refused sender's messages are dropped from the run (consumed, never shown to the
 *      model) while the others' still run; when nobody is left, a polite refusal (rate limit: once a minute)
 *   5. bot-loop guard     -> every turn that would answer counts; past the cap per minute, silence
 * Refusals are `{action:'reply', outcome}`: the messages are consumed and answered once, never retried.
 * Synthetic events (check-ins, reminders) pass 3-4: they were set up by the user or an admin and carry their own
 * budgets (scheduler). Admins and owners pass 3-4 too (bans still apply).
 *
 * What is enforced elsewhere (documented, not repeated here): bot senders are dropped by the adapters unless
 * *_ALLOW_BOTS; group messages reach a turn only when addressed to the bot (Slack mention or a thread it takes
 * part in, Discord DISCORD_REQUIRE_MENTION, Telegram @mention / reply / `/cmd@bot`; the local channel counts
 * every message as addressed). Text over MAX_INPUT_CHARS: HTTP channels get a 413 at ingress; chat platforms' messages
 * arrive here without their text (`tooLongChars`) and get a polite refusal (with the rest of their batch).
 *
 * `commitWrites` adds the turn's tokens to each sender's day (usage and budgets), split by their messages, in the
 * turn's own commit. The standings and today's usage come with the turn's one read (`read`).
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config/env.js';
import type { BeforeRun, TurnContext, TurnHooks } from '../core/module.js';
import type { AdapterRegistry } from '../core/registry.js';
import type { InboundEvent } from '../core/types.js';
import type { Db } from '../db/client.js';
import { allowReply, claimRateNotice, takeTokens } from './limits.js';
import { pairingCodeFor } from './pairing.js';
import { currentPause, noticeOnce } from './pause.js';
import { principalOf, userKeyOf, type AccessKeys, type AccessPolicy } from './policy.js';
import { standingFrom, standingOf, type Standing } from './standing.js';
import { accessTurnRead, addUsageSql, rememberUsername, usageOn, utcDay, type AccessTurnData } from './store.js';
import { safeErr } from '../observability/logger.js';

export interface GateDeps {
  db: Db;
  redis: Redis;
  keys: AccessKeys;
  policy: AccessPolicy;
  config: Config;
  adapters: AdapterRegistry;
  paceKey(channelKey: string): string;
  log: Logger;
}

/** Not a person's message: a scheduled turn, or an approval decision (its resumed run is the asker's, ctx.userKey). */
const isSynthetic = (e: InboundEvent) => e.kind === 'checkin' || e.kind === 'reminder' || e.kind === 'approval';

export const RATE_LIMITED_TEXT =
  "You're sending messages faster than I can keep up with. Please wait a minute and try again.";

export function budgetText(budget: number): string {
  return `You've used today's token budget (${budget.toLocaleString('en-US')} tokens). It resets at 00:00 UTC — see \`/usage\`.`;
}

export function pairingText(code: string, ttlSeconds: number): string {
  const mins = Math.max(1, Math.round(ttlSeconds / 60));
  return `Hi! This bot is private. Your pairing code is **${code}**. Ask an admin to approve it with \`/allow ${code}\` (it expires in ${mins} minute${mins === 1 ? '' : 's'}).`;
}

export function tooLongText(chars: number, limit: number): string {
  return `That message is too long for me (${chars.toLocaleString('en-US')} characters; the limit is ${limit.toLocaleString('en-US')}). Please send it in shorter parts.`;
}

/** `total` split by `weights` in whole tokens that add up to `total` exactly (largest remainder). */
export function shares(total: number, weights: number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (total * w) / sum);
  const out = exact.map(Math.floor);
  let left = total - out.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0]);
  for (const [, i] of order) if (left-- > 0) out[i]!++;
  return out;
}

export const ALLOWLIST_TEXT = 'Sorry, this bot only talks to people an admin has allowed. Ask an admin to let you in.';

export function accessHooks(d: GateDeps): TurnHooks {
  const usernames = new Map<string, string>();

  /** Telegram mentions carry no id: remember `@username -> id` from what senders show (when the event has it). */
  async function learnUsernames(events: InboundEvent[]): Promise<void> {
    for (const e of events) {
      const username = (e.sender as { username?: unknown }).username;
      if (typeof username !== 'string' || !username) continue;
      const k = `${e.platform}:${username.toLowerCase()}`;
      if (usernames.get(k) === e.sender.id) continue;
      await rememberUsername(d.db, e.platform, username, e.sender.id);
      if (usernames.size > 10_000) usernames.clear();
      usernames.set(k, e.sender.id);
    }
  }

  /** The DM policy: a DM has one person, the turn's. */
  async function dmPolicy(ctx: TurnContext, standing: Standing): Promise<BeforeRun | undefined> {
    if (standing.role !== 'user' || ctx.ref.kind !== 'dm') return undefined;
    const policy = d.policy.dmPolicy(ctx.ref.platform);
    if (policy === 'open' || standing.allowed) return undefined;
    if (policy === 'allowlist') return { action: 'reply', text: ALLOWLIST_TEXT, outcome: 'refused' };
    const code = await pairingCodeFor(
      d.redis,
      d.keys,
      {
        principal: standing.principal,
        userId: ctx.sender.id,
        name: ctx.sender.name,
        ref: ctx.ref,
        at: ctx.now.toISOString(),
      },
      d.config.PAIRING_CODE_TTL_SECONDS,
    );
    return { action: 'reply', text: pairingText(code, d.config.PAIRING_CODE_TTL_SECONDS), outcome: 'pairing' };
  }

  /**
   * Bans, the rate limit and the daily budget, each sender on their own: a group batch of several people's
   * messages drops the messages of whoever is banned, too fast or out of budget, and the rest still run. Each
   * sender's bucket pays for their own messages only. Returns the refused events and why.
   */
  async function perSender(ctx: TurnContext, people: InboundEvent[], standings: Map<string, Standing>) {
    const bySender = new Map<string, InboundEvent[]>();
    for (const e of people) {
      const p = principalOf(e.platform, e.sender.id);
      bySender.set(p, [...(bySender.get(p) ?? []), e]);
    }
    const drop: string[] = [];
    const refused = { banned: 0, limited: [] as string[], budget: 0 };
    const limits = { perMinute: d.config.RATE_LIMIT_PER_MINUTE, burst: d.config.RATE_LIMIT_BURST };
    const budget = d.config.USER_DAILY_TOKEN_BUDGET;
    for (const [principal, events] of bySender) {
      const s = standings.get(principal)!;
      const ids = events.map((e) => e.id);
      if (s.banned) {
        drop.push(...ids);
        refused.banned++;
        continue;
      }
      if (s.role !== 'user') continue;
      if (!(await takeTokens(d.redis, d.keys, principal, ids, limits))) {
        drop.push(...ids);
        refused.limited.push(principal);
        continue;
      }
      if (budget > 0) {
        const e = events[0]!;
        const userKey = userKeyOf(e.platform, e.tenant, e.sender.id);
        const pre = (ctx.reads?.access as AccessTurnData | undefined)?.usage;
        const used = pre ? Number(pre[userKey] ?? 0) : await tokensOn(userKey, utcDay(ctx.now));
        if (used >= budget) {
          drop.push(...ids);
          refused.budget++;
        }
      }
    }
    return { drop, refused };
  }

  const tokensOn = async (userKey: string, day: string) => {
    const used = await usageOn(d.db, userKey, day);
    return used.inputTokens + used.outputTokens;
  };

  return {
    read: {
      name: 'access',
      sql: accessTurnRead(d.config.USER_DAILY_TOKEN_BUDGET > 0),
      params: ({ events, now }) => ({
        principals: [...new Set(events.map((e) => principalOf(e.platform, e.sender.id)))],
        userKeys: [...new Set(events.map((e) => userKeyOf(e.platform, e.tenant, e.sender.id)))],
        day: utcDay(now),
      }),
    },
    async beforeRun(ctx) {
      await learnUsernames(ctx.events).catch((err: Error) =>
        d.log.warn({ err: safeErr(err) }, 'could not remember usernames'),
      );
      const people = ctx.events.filter((e) => !isSynthetic(e) && !e.sender.isBot);

      const pause = await currentPause(d.redis, d.keys);
      if (pause) {
        const last = people.at(-1);
        if (last) await noticeOnce(d, pause, ctx.conversationKey, ctx.ref, last.platformMessageId);
        return { action: 'defer', delayMs: d.config.PAUSE_RECHECK_MS };
      }

      // Everyone whose messages are in the batch; for synthetic-only turns, the person the turn is for.
      const senders = [
        ...new Set((people.length ? people : ctx.events).map((e) => principalOf(e.platform, e.sender.id))),
      ];
      // Read with the turn's state (the `read` below); a turn run without it reads them here.
      const pre = ctx.reads?.access as AccessTurnData | undefined;
      const standings = pre
        ? senders.map((p) => standingFrom(d.policy, p, pre.users[p]))
        : await Promise.all(senders.map((p) => standingOf(d.db, d.policy, p)));
      if (standings.every((s) => s.banned)) return { action: 'reply', text: null, outcome: 'banned' };
      const tooLong = people.find((e) => e.tooLongChars);
      if (tooLong)
        return {
          action: 'reply',
          text: tooLongText(tooLong.tooLongChars!, d.config.MAX_INPUT_CHARS),
          outcome: 'too_long',
        };

      const turnPerson =
        standings.find((s) => s.principal === principalOf(ctx.ref.platform, ctx.sender.id)) ?? standings.at(-1)!;
      let decision: BeforeRun | undefined = people.length ? await dmPolicy(ctx, turnPerson) : undefined;
      if (!decision && people.length) {
        const { drop, refused } = await perSender(ctx, people, new Map(standings.map((s) => [s.principal, s])));
        if (drop.length === ctx.events.length) {
          // Nobody left to answer: one polite refusal (or quiet, as before) for the reason that applies.
          if (refused.limited.length) {
            const notice = await claimRateNotice(d.redis, d.keys, refused.limited.at(-1)!);
            return { action: 'reply', text: notice ? RATE_LIMITED_TEXT : null, outcome: 'rate_limited' };
          }
          if (refused.budget)
            decision = { action: 'reply', text: budgetText(d.config.USER_DAILY_TOKEN_BUDGET), outcome: 'budget' };
          else return { action: 'reply', text: null, outcome: 'banned' };
        } else if (drop.length) {
          d.log.info(
            { dropped: drop.length, ...refused, limited: refused.limited.length },
            'some senders refused; the others run',
          );
          decision = { action: 'run', drop };
        }
      }

      const answers = !decision || decision.action === 'run' || (decision.action === 'reply' && decision.text !== null);
      const synthOnly = ctx.events.every(isSynthetic);
      if (
        answers &&
        !synthOnly &&
        !(await allowReply(
          d.redis,
          d.keys,
          ctx.conversationKey,
          ctx.events.at(-1)!.id,
          d.config.BOT_LOOP_MAX_REPLIES_PER_MINUTE,
        ))
      ) {
        d.log.warn({ conversation: ctx.conversationKey }, 'bot-loop guard: reply cap reached; consuming quietly');
        return { action: 'reply', text: null, outcome: 'loop_guard' };
      }
      return decision;
    },

    commitWrites(ctx, outcome) {
      if (outcome.inputTokens + outcome.outputTokens <= 0) return [];
      // Each person pays their share (by message count) of a turn that answered several; ctx.events holds only
      // the messages the model saw. A synthetic-only turn is the turn person's.
      const people = ctx.events.filter((e) => !isSynthetic(e) && !e.sender.isBot);
      const counts = new Map<string, number>();
      for (const e of people) {
        const userKey = userKeyOf(e.platform, e.tenant, e.sender.id);
        counts.set(userKey, (counts.get(userKey) ?? 0) + 1);
      }
      if (!counts.size) counts.set(ctx.userKey, 1);
      const inputs = shares(outcome.inputTokens, [...counts.values()]);
      const outputs = shares(outcome.outputTokens, [...counts.values()]);
      const rows = [...counts.keys()].map((userKey, i) => ({
        userKey,
        inputTokens: inputs[i]!,
        outputTokens: outputs[i]!,
      }));
      return [addUsageSql(utcDay(ctx.now), rows)];
    },
  };
}
