/**
 * The access module's turn hooks. `beforeRun`, first in hook order, decides in this order:
 *   1. maintenance pause  -> defer (nothing consumed); one notice per conversation per pause
 *   2. bans               -> consumed silently when every person in the batch is banned
 *   3. DM policy          -> allowlist: a polite refusal; pairing: a code and nothing else
 *   4. per-user rate limit (token bucket, one token per message, charged once) -> a polite refusal, once a minute
 *   5. daily token budget -> a polite refusal
 *   6. bot-loop guard     -> every turn that would answer counts; past the cap per minute, silence
 * Refusals are `{action:'reply', outcome}`: the messages are consumed and answered once, never retried.
 * Synthetic events (check-ins, reminders) pass 3-5: they were set up by the user or an admin and carry their own
 * budgets (scheduler). Admins and owners pass 3-5 too.
 *
 * What is enforced elsewhere (documented, not repeated here): bot senders are dropped by the adapters unless
 * *_ALLOW_BOTS; group messages reach a turn only when addressed to the bot (Slack mention or a thread it takes
 * part in, Discord DISCORD_REQUIRE_MENTION, Telegram @mention / reply / `/cmd@bot`; the local channel counts
 * every message as addressed). Text over MAX_INPUT_CHARS: HTTP channels get a 413 at ingress; chat platforms' messages
 * arrive here without their text (`tooLongChars`) and get a polite refusal (with the rest of their batch).
 *
 * `afterCommit` adds the turn's tokens to the user's day (usage and budgets).
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
import { principalOf, type AccessKeys, type AccessPolicy } from './policy.js';
import { standingOf, type Standing } from './standing.js';
import { recordUsage, rememberUsername, usageOn, utcDay } from './store.js';
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

const isSynthetic = (e: InboundEvent) => e.kind === 'checkin' || e.kind === 'reminder';

export const RATE_LIMITED_TEXT = "You're sending messages faster than I can keep up with. Please wait a minute and try again.";

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

export const ALLOWLIST_TEXT = "Sorry, this bot only talks to people an admin has allowed. Ask an admin to let you in.";

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

  async function decide(ctx: TurnContext, people: InboundEvent[], standing: Standing): Promise<BeforeRun | undefined> {
    if (standing.role !== 'user') return undefined;
    const platform = ctx.ref.platform;
    if (ctx.ref.kind === 'dm') {
      const policy = d.policy.dmPolicy(platform);
      if (policy !== 'open' && !standing.allowed) {
        if (policy === 'allowlist') return { action: 'reply', text: ALLOWLIST_TEXT, outcome: 'refused' };
        const code = await pairingCodeFor(d.redis, d.keys, {
          principal: standing.principal, userId: ctx.sender.id, name: ctx.sender.name, ref: ctx.ref, at: ctx.now.toISOString(),
        }, d.config.PAIRING_CODE_TTL_SECONDS);
        return { action: 'reply', text: pairingText(code, d.config.PAIRING_CODE_TTL_SECONDS), outcome: 'pairing' };
      }
    }
    const limits = { perMinute: d.config.RATE_LIMIT_PER_MINUTE, burst: d.config.RATE_LIMIT_BURST };
    if (!(await takeTokens(d.redis, d.keys, standing.principal, people.map((e) => e.id), limits))) {
      const notice = await claimRateNotice(d.redis, d.keys, standing.principal);
      return { action: 'reply', text: notice ? RATE_LIMITED_TEXT : null, outcome: 'rate_limited' };
    }
    const budget = d.config.USER_DAILY_TOKEN_BUDGET;
    if (budget > 0) {
      const used = await usageOn(d.db, ctx.userKey, utcDay(ctx.now));
      if (used.inputTokens + used.outputTokens >= budget) return { action: 'reply', text: budgetText(budget), outcome: 'budget' };
    }
    return undefined;
  }

  return {
    async beforeRun(ctx) {
      await learnUsernames(ctx.events).catch((err: Error) => d.log.warn({ err: safeErr(err) }, 'could not remember usernames'));
      const people = ctx.events.filter((e) => !isSynthetic(e) && !e.sender.isBot);

      const pause = await currentPause(d.redis, d.keys);
      if (pause) {
        const last = people.at(-1);
        if (last) await noticeOnce(d, pause, ctx.conversationKey, ctx.ref, last.platformMessageId);
        return { action: 'defer', delayMs: d.config.PAUSE_RECHECK_MS };
      }

      // Everyone whose messages are in the batch; for synthetic-only turns, the person the turn is for.
      const senders = [...new Set((people.length ? people : ctx.events).map((e) => principalOf(e.platform, e.sender.id)))];
      const standings = await Promise.all(senders.map((p) => standingOf(d.db, d.policy, p)));
      if (standings.every((s) => s.banned)) return { action: 'reply', text: null, outcome: 'banned' };
      const tooLong = people.find((e) => e.tooLongChars);
      if (tooLong) return { action: 'reply', text: tooLongText(tooLong.tooLongChars!, d.config.MAX_INPUT_CHARS), outcome: 'too_long' };

      const turnPerson = standings.find((s) => s.principal === principalOf(ctx.ref.platform, ctx.sender.id)) ?? standings.at(-1)!;
      const decision = people.length ? await decide(ctx, people, turnPerson) : undefined;

      const answers = !decision || (decision.action === 'reply' && decision.text !== null);
      const synthOnly = ctx.events.every(isSynthetic);
      if (answers && !synthOnly && !(await allowReply(d.redis, d.keys, ctx.conversationKey, ctx.events.at(-1)!.id, d.config.BOT_LOOP_MAX_REPLIES_PER_MINUTE))) {
        d.log.warn({ conversation: ctx.conversationKey }, 'bot-loop guard: reply cap reached; consuming quietly');
        return { action: 'reply', text: null, outcome: 'loop_guard' };
      }
      return decision;
    },

    async afterCommit(ctx, outcome) {
      if (outcome.inputTokens + outcome.outputTokens <= 0) return;
      await recordUsage(d.db, ctx.userKey, utcDay(ctx.now), outcome.inputTokens, outcome.outputTokens);
    },
  };
}
