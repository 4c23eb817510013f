/**
 * One turn for one conversation. BullMQ guarantees at most one active turn job per conversation (see
 * src/queue/queues.ts); the version fence in commitTurn covers the rare case of a worker that lost its job lock
 * and kept running. Steps, each safe to repeat after a crash at any point:
 *   1. read a batch from the inbox (entries stay until step 5);
 *   2. skip events a committed turn already consumed (crash after commit): make sure their reply is delivered;
 *   3. run the agent on the fresh events, in arrival order, as one turn;
 *   4. commit items + turn + reply (outbox) in one transaction, then schedule delivery;
 *   5. remove the consumed entries; if more arrived, schedule another turn.
 */
import type { AgentInputItem } from '@openai/agents';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Redis } from 'ioredis';
import { BREAKER_OPEN_NOTICE, ModelUnavailableError } from '../agent/breaker.js';
import type { AgentRuntime } from '../agent/runtime.js';
import { correlationId, safeErr } from '../observability/logger.js';
import { modelErrors, modelTokens, turnSeconds, turnsTotal } from '../observability/metrics.js';
import { TurnSession } from '../agent/session.js';
import type { BeforeRun, TurnContext, TurnHooks } from '../core/module.js';
import type { AdapterRegistry } from '../core/registry.js';
import type { InboundEvent } from '../core/types.js';
import type { Db } from '../db/client.js';
import { publishDelivered } from '../outbound/notifications.js';
import type { Inbox } from '../queue/inbox.js';
import type { Queues } from '../queue/queues.js';
import { commitTurn, consumedEvents, loadConversation, StaleTurnError } from './commit.js';
import { batchHash, forgetModelOutput, reuseModelOutput } from './model-cache.js';

export const APOLOGY = "Sorry, I couldn't answer that just now. Please try again in a moment.";

export interface TurnDeps {
  db: Db;
  redis: Redis;
  inbox: Inbox;
  queues: Queues;
  runtime: AgentRuntime;
  adapters: AdapterRegistry;
  deliveredChannel: string;
  log: Logger;
  historyLimit: number;
  batchMax: number;
  /** Show the typing sign only for turns slower than this (no flicker on fast answers). */
  typingDelayMs?: number;
  /** Modules' hooks, in order. */
  hooks?: TurnHooks[];
  /** Redis key keeping a batch's model output until its turn commits (src/worker/model-cache.ts); unset: not kept. */
  modelOutputKey?: (batchHash: string) => string;
}

function assistantItem(text: string): AgentInputItem {
  return { type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text }] };
}

export const userKeyOf = (e: InboundEvent) => `${e.platform}:${e.tenant}:${e.sender.id}`;

export function turnContext(turnId: string, conversationKey: string, fresh: InboundEvent[], sessionId: string | null = null): TurnContext {
  const last = fresh.at(-1)!;
  const human = [...fresh].reverse().find((e) => !e.sender.isBot) ?? last;
  return {
    turnId, conversationKey, sessionId, ref: last.conversation, events: fresh,
    userKey: userKeyOf(human),
    sender: { id: human.sender.id, name: human.sender.name },
    kind: last.kind, now: new Date(), instructions: [],
  };
}

/**
 * Ask every module; the first that does not say 'run' decides. History limits combine to the smallest. Dropped
 * events leave the context at once (the turn's person, memory recall and usage then follow the remaining senders);
 * when nothing is left, the turn is consumed silently.
 */
async function decide(hooks: TurnHooks[], ctx: TurnContext): Promise<BeforeRun> {
  let historyLimit: number | undefined;
  for (const h of hooks) {
    const d = await h.beforeRun?.(ctx);
    if (!d) continue;
    if (d.action !== 'run') return d;
    if (d.historyLimit !== undefined) historyLimit = Math.min(historyLimit ?? Infinity, d.historyLimit);
    if (d.drop?.length) {
      const drop = new Set(d.drop);
      const kept = ctx.events.filter((e) => !drop.has(e.id));
      if (!kept.length) {
        ctx.events = [];
        return { action: 'reply', text: null, outcome: 'dropped' };
      }
      const { userKey, sender, ref, kind } = turnContext(ctx.turnId, ctx.conversationKey, kept);
      Object.assign(ctx, { events: kept, userKey, sender, ref, kind });
    }
  }
  return { action: 'run', historyLimit };
}

/** Whose message each item is: the turn's user items are its input, in order (the runner saves them first). */
function itemSenders(items: AgentInputItem[], shown: InboundEvent[]): (string | null)[] {
  let next = 0;
  return items.map((it) => ((it as { role?: string }).role === 'user' && next < shown.length ? userKeyOf(shown[next++]!) : null));
}

/**
 * How one inbound event is shown to the model. Group messages carry the sender's name, without brackets or line
 * breaks: a name must not pass for the end of the prefix or for another speaker's line.
 */
export function toUserItem(e: InboundEvent): AgentInputItem {
  const name = (e.sender.name ?? e.sender.id).replace(/[[\]\r\n]+/g, ' ').trim() || e.sender.id;
  const who = e.conversation.kind === 'group' ? `[${name}] ` : '';
  const edited = e.kind === 'edit' ? '(edited) ' : '';
  const files = e.attachments.map((a) => `\n[attachment: ${a.name ?? 'file'}${a.mimeType ? `, ${a.mimeType}` : ''}]`).join('');
  return { role: 'user', content: `${who}${edited}${e.text}${files}` };
}

async function withTyping<T>(deps: TurnDeps, last: InboundEvent, fn: () => Promise<T>): Promise<T> {
  const adapter = deps.adapters.get(last.platform);
  if (!adapter?.startTyping) return fn();
  let stop: (() => Promise<void>) | undefined;
  let finished = false;
  const timer = setTimeout(() => {
    adapter.startTyping!(last.conversation, last.platformMessageId).then((s) => {
      // The turn may have ended while the platform was answering startTyping: stop at once, or it types forever.
      if (finished) void s().catch(() => undefined);
      else stop = s;
    }, () => undefined);
  }, deps.typingDelayMs ?? 1_500);
  try {
    return await fn();
  } finally {
    finished = true;
    clearTimeout(timer);
    await stop?.().catch(() => undefined);
  }
}

export async function processConversation(deps: TurnDeps, conversationKey: string, attempt = 0): Promise<void> {
  let log = deps.log.child({ conversation: conversationKey });
  await deps.inbox.turnStarting(conversationKey); // before reading: later appends schedule the next turn
  const entries = await deps.inbox.read(conversationKey, deps.batchMax);
  if (!entries.length) {
    await deps.inbox.ack(conversationKey, []);
    return;
  }
  for (const e of entries) if (!e.event) log.error({ streamId: e.streamId }, 'unreadable inbox entry dropped');
  const events = entries.flatMap((e) => (e.event ? [e.event] : []));
  const consumed = await consumedEvents(deps.db, events.map((e) => e.id));
  if (consumed.size) await deps.queues.scheduleDelivery(conversationKey);
  const fresh = events.filter((e) => !consumed.has(e.id));

  if (fresh.length) {
    const turnId = randomUUID();
    const eventIds = fresh.map((e) => e.id);
    log = log.child({ correlationId: correlationId(eventIds), turnId });
    // Read before the hooks, which need the session (memory recall): one read serves both.
    const state = await loadConversation(deps.db, conversationKey);
    const ctx = turnContext(turnId, conversationKey, fresh, state.version === 0 ? null : state.sessionId);
    const hooks = deps.hooks ?? [];
    const decision = await decide(hooks, ctx);
    if (decision.action === 'defer') {
      // Nothing consumed: the messages wait in the inbox, in order, for the next look.
      log.info({ delayMs: decision.delayMs }, 'turn deferred by a module');
      await deps.queues.scheduleTurn(conversationKey, decision.delayMs);
      return;
    }
    const limit = decision.action === 'run' ? (decision.historyLimit ?? Infinity) : Infinity;
    const session = new TurnSession(deps.db, state.sessionId, Math.min(deps.historyLimit, limit));
    // Read the history now, outside the model's try: a database error must retry the job, not count as a model
    // failure (which would answer with an apology and could open the model's circuit breaker).
    await session.getItems();
    // What the model sees: the events no hook dropped (all of `fresh` is consumed either way).
    const shown = ctx.events;
    const input = shown.map(toUserItem);
    const last = fresh.at(-1)!;
    const started = Date.now();
    const keptKey = deps.modelOutputKey?.(batchHash(eventIds));
    let reply: string | null;
    let outcome: string;
    let usage = { inputTokens: 0, outputTokens: 0, model: deps.runtime.modelName };
    let items: AgentInputItem[];
    if (decision.action === 'reply') {
      reply = decision.text;
      outcome = decision.outcome;
      items = reply ? [...input, assistantItem(reply)] : input;
    } else {
      try {
        const out = await reuseModelOutput(deps.redis, keptKey, async () => {
          const o = await withTyping(deps, shown.at(-1)!, () => deps.runtime.run(input, session, ctx));
          return { ...o, items: session.pending.length ? session.pending : input };
        });
        if (out.reused) log.info('model output of an earlier attempt reused');
        usage = { inputTokens: out.inputTokens, outputTokens: out.outputTokens, model: out.model };
        reply = out.text.trim() ? out.text : null;
        outcome = reply ? 'replied' : 'silent';
        items = out.items;
        if (!out.reused) {
          modelTokens.inc({ direction: 'input' }, out.inputTokens);
          modelTokens.inc({ direction: 'output' }, out.outputTokens);
        }
      } catch (err) {
        const open = err instanceof ModelUnavailableError;
        log.error({ err: safeErr(err) }, open ? 'model circuit open; sending a notice' : 'model failed after retries; apologising');
        modelErrors.inc({ reason: open ? 'circuit_open' : 'failed' });
        // A check-in nobody asked for right now must not DM every user an apology during a provider outage.
        const unprompted = shown.every((e) => e.kind === 'checkin');
        reply = unprompted ? null : open ? BREAKER_OPEN_NOTICE : APOLOGY;
        outcome = unprompted ? 'model_failed' : 'apology';
        // The user's messages stay in the session, so the next turn still has them in context.
        items = reply ? [...input, assistantItem(reply)] : input;
      }
    }
    try {
      const seq = await commitTurn(deps.db, {
        turnId, conversationKey, ref: last.conversation, state, events: fresh, items, itemSenders: itemSenders(items, shown), reply,
        replyTo: last.platformMessageId, outcome, ...usage, durationMs: Date.now() - started,
      });
      log.info({ seq, eventIds, outcome, ms: Date.now() - started }, 'turn committed');
      await forgetModelOutput(deps.redis, keptKey);
      turnsTotal.inc({ outcome });
      turnSeconds.observe((Date.now() - started) / 1000);
    } catch (err) {
      if (err instanceof StaleTurnError && attempt < 3) {
        log.warn({ err: safeErr(err) }, 'turn was stale; starting over');
        return processConversation(deps, conversationKey, attempt + 1);
      }
      throw err;
    }
    if (reply !== null) await deps.queues.scheduleDelivery(conversationKey);
    else {
      const keepRecent = deps.adapters.forConversation(conversationKey)?.capabilities.replaysDeliveries === true;
      const silent = { turnId, conversationKey, eventIds, outcome: 'silent', parts: [] };
      await publishDelivered(deps.redis, deps.deliveredChannel, silent, keepRecent);
    }
    for (const h of hooks) {
      await h.afterCommit?.(ctx, { outcome, reply, ...usage }).catch((err: Error) => log.warn({ err: safeErr(err) }, 'afterCommit hook failed'));
    }
  }

  const left = await deps.inbox.ack(conversationKey, entries.map((e) => e.streamId));
  if (left > 0) await deps.queues.scheduleTurn(conversationKey);
}
