/**
 * One turn for one conversation. BullMQ guarantees at most one active turn job per conversation (see
 * src/queue/queues.ts); the version fence in commitTurn covers the rare case of a worker that lost its job lock
 * and kept running. Steps (processConversation at the end reads as them), each safe to repeat after a crash:
 *   1. readBatch: a batch from the inbox (entries stay until step 7);
 *   2. skipConsumed: events a committed turn already consumed (crash after commit) only get their reply delivered
 *      (read in the same statement as the conversation's state and history: one read per turn);
 *   3. decide: the modules' hooks may run the agent, answer for it, drop events, or defer the turn;
 *   4. runAgent: the agent on the fresh events, in arrival order, as one turn;
 *   5. commit: items + turn + reply (outbox) + the modules' usage in one statement;
 *   6. handOff: schedule delivery (or announce a silent turn);
 *   7. ackBatch: remove the consumed entries; if more arrived, schedule another turn.
 */
import type { AgentInputItem } from '@openai/agents';
import type { SQL } from 'drizzle-orm';
import type { Span } from '@opentelemetry/api';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { withoutImageBytes, type ReadAttachments } from '../attachments/index.js';
import { BREAKER_OPEN_NOTICE, ModelUnavailableError } from '../agent/breaker.js';
import type { PausedRun } from '../agent/runtime.js';
import { correlationId, safeErr } from '../observability/logger.js';
import { modelErrors, modelTokens, turnSeconds, turnsTotal } from '../observability/metrics.js';
import { TurnSession } from '../agent/session.js';
import type { BeforeRun, TurnContext, TurnHooks } from '../core/module.js';
import type { InboundEvent } from '../core/types.js';
import { publishDelivered } from '../outbound/notifications.js';
import { commitTurn, loadTurnInputs, StaleTurnError, type ConversationState, type TurnInputs } from './commit.js';
import { batchHash, reuseModelOutput } from './model-cache.js';
import { endTurnSpan, inTurnSpan, rememberTurnTrace } from '../observability/turn-trace.js';

import { APOLOGY, assistantItem, readsOf, turnContext, userKeyOf, withTyping, type TurnDeps } from './context.js';
import { approvalStep, pauseWrites } from './approval-turn.js';
import { lazyChild } from '../observability/lazy-child.js';

export { APOLOGY, assistantItem, turnContext, userKeyOf };
export type { TurnDeps };

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
  return items.map((it) =>
    (it as { role?: string }).role === 'user' && next < shown.length ? userKeyOf(shown[next++]!) : null,
  );
}

/**
 * How one inbound event is shown to the model. Group messages carry the sender's name, without brackets or line
 * breaks: a name must not pass for the end of the prefix or for another speaker's line.
 */
export function toUserItem(e: InboundEvent, read?: ReadAttachments): AgentInputItem {
  const name = (e.sender.name ?? e.sender.id).replace(/[[\]\r\n]+/g, ' ').trim() || e.sender.id;
  const who = e.conversation.kind === 'group' ? `[${name}] ` : '';
  const edited = e.kind === 'edit' ? '(edited) ' : '';
  const files =
    read?.text ??
    e.attachments.map((a) => `\n[attachment: ${a.name ?? 'file'}${a.mimeType ? `, ${a.mimeType}` : ''}]`).join('');
  const text = `${who}${edited}${e.text}${files}`;
  if (!read?.images.length) return { role: 'user', content: text };
  const images = read.images.map((image) => ({ type: 'input_image' as const, image }));
  return { role: 'user', content: [{ type: 'input_text', text }, ...images] };
}

/** What the model sees of the turn's events (files read at turn time), and notices for the user about them. */
async function turnInput(deps: TurnDeps, ctx: TurnContext): Promise<{ input: AgentInputItem[]; notices: string[] }> {
  const reader = deps.attachments;
  if (!reader || !ctx.events.some((e) => e.attachments.length))
    return { input: ctx.events.map((e) => toUserItem(e)), notices: [] };
  const images = ctx.agent?.images ?? deps.modelAcceptsImages ?? true;
  const read = await Promise.all(ctx.events.map((e) => reader.read(e, { images })));
  return { input: ctx.events.map((e, i) => toUserItem(e, read[i])), notices: read.flatMap((r) => r.notices) };
}

type Decided = Exclude<BeforeRun, { action: 'defer' }>;

/** What a turn commits: the reply (null: nothing to send), how it went, and the session items it adds. */
interface Answer {
  reply: string | null;
  outcome: string;
  items: AgentInputItem[];
  usage: { inputTokens: number; outputTokens: number; model: string };
  /** Per item, the agent that produced it (src/agents); unset when no agent ran. */
  itemAgents?: (string | null)[];
  /** The run stopped for an approval: the reply is its prompt (src/worker/approval-turn.ts). */
  paused?: PausedRun;
}

interface Batch {
  /** The model output kept for this conversation's last unfinished batch (src/worker/model-cache.ts). */
  kept: string | null;
  streamIds: string[];
  events: InboundEvent[];
  /** When each event entered the inbox (its stream id's milliseconds): where its queue-wait span starts. */
  enqueuedAt: Map<string, number>;
  /** Each readable event's stream id (a decision is acked alone, before the messages that waited for it). */
  idOf: Map<InboundEvent, string>;
}

/** Step 1: the batch, in arrival order (entries stay in the inbox until step 7). */
async function readBatch(deps: TurnDeps, conversationKey: string, log: Logger): Promise<Batch> {
  // The "queued" flag is cleared in the same round trip as the read (later appends schedule the next turn), and
  // the model output kept for an unfinished batch comes with it.
  const { entries, kept } = await deps.inbox.startTurn(
    conversationKey,
    deps.batchMax,
    deps.modelOutputKey?.(conversationKey),
  );
  for (const e of entries) if (!e.event) log.error({ streamId: e.streamId }, 'unreadable inbox entry dropped');
  const idOf = new Map(entries.flatMap((e) => (e.event ? [[e.event, e.streamId] as const] : [])));
  return {
    kept,
    streamIds: entries.map((e) => e.streamId),
    events: [...idOf.keys()],
    idOf,
    enqueuedAt: new Map([...idOf].map(([e, streamId]) => [e.id, Number(streamId.split('-')[0])])),
  };
}

/** Step 2: events a committed turn already consumed (a crash after commit) are not run again; their reply is sent. */
async function skipConsumed(
  deps: TurnDeps,
  conversationKey: string,
  events: InboundEvent[],
  inputs: TurnInputs,
): Promise<InboundEvent[]> {
  if (inputs.consumed.size) await deps.queues.scheduleDelivery(conversationKey);
  return events.filter((e) => !inputs.consumed.has(e.id));
}

/** Step 4, a module decided: no model call; the messages are consumed with the module's answer. */
function decidedAnswer(
  decision: Extract<BeforeRun, { action: 'reply' }>,
  input: AgentInputItem[],
  model: string,
): Answer {
  const items = decision.text ? [...input, assistantItem(decision.text)] : input;
  return { reply: decision.text, outcome: decision.outcome, items, usage: { inputTokens: 0, outputTokens: 0, model } };
}

/** Step 4: the agent's answer (kept until the commit), or an apology / notice when the model cannot answer. */
async function runAgent(
  deps: TurnDeps,
  ctx: TurnContext,
  session: TurnSession,
  input: AgentInputItem[],
  kept: { key: string | undefined; batch: string; value: string | null },
  log: Logger,
): Promise<Answer> {
  const shown = ctx.events;
  try {
    const out = await reuseModelOutput(deps.redis, kept.key, kept.batch, kept.value, async () => {
      const run = () => deps.runtime.run(input, session, ctx);
      const o = await withTyping(deps, shown.at(-1)!, run, () => ctx.previewShown === true);
      // The session keeps a note of each image, not its bytes (nor does the kept output in Redis).
      return { ...o, items: withoutImageBytes(session.pending.length ? session.pending : input) };
    });
    if (out.reused) log.info('model output of an earlier attempt reused');
    else {
      modelTokens.inc({ direction: 'input' }, out.inputTokens);
      modelTokens.inc({ direction: 'output' }, out.outputTokens);
    }
    const reply = out.text.trim() ? out.text : null;
    const usage = { inputTokens: out.inputTokens, outputTokens: out.outputTokens, model: out.model };
    const { itemAgents, paused } = out;
    if (paused) return { reply: null, outcome: 'approval_pending', items: out.items, usage, itemAgents, paused };
    return { reply, outcome: reply ? 'replied' : 'silent', items: out.items, usage, itemAgents };
  } catch (err) {
    const open = err instanceof ModelUnavailableError;
    const what = open ? 'model circuit open; sending a notice' : 'model failed after retries; apologising';
    log.error({ err: safeErr(err) }, what);
    modelErrors.inc({ reason: open ? 'circuit_open' : 'failed' });
    // A check-in nobody asked for right now must not DM every user an apology during a provider outage.
    const unprompted = shown.every((e) => e.kind === 'checkin');
    const reply = unprompted ? null : open ? BREAKER_OPEN_NOTICE : APOLOGY;
    // The user's messages stay in the session, so the next turn still has them in context.
    const items = reply ? [...input, assistantItem(reply)] : input;
    const usage = { inputTokens: 0, outputTokens: 0, model: deps.runtime.modelName };
    return { reply, outcome: unprompted ? 'model_failed' : 'apology', items, usage };
  }
}

/** Step 5: items + turn + reply (outbox) in one statement. Null: a newer turn got there first (start over). */
async function commit(
  deps: TurnDeps,
  ctx: TurnContext,
  state: ConversationState,
  fresh: InboundEvent[],
  answer: Answer,
  started: number,
  hookWrites: SQL[],
): Promise<number | null> {
  const last = fresh.at(-1)!;
  // A run stopped for an approval: its prompt is the reply, and the approval row is written with the turn.
  const pause = answer.paused ? pauseWrites(deps, ctx, answer.paused) : undefined;
  try {
    return await commitTurn(deps.db, {
      turnId: ctx.turnId,
      conversationKey: ctx.conversationKey,
      ref: last.conversation,
      state,
      events: fresh,
      items: answer.items,
      itemSenders: itemSenders(answer.items, ctx.events),
      itemAgents: answer.itemAgents,
      reply: pause?.prompt ?? answer.reply,
      approvalId: pause?.approvalId,
      extraWrites: pause?.writes,
      hookWrites,
      replyTo: last.platformMessageId,
      outcome: answer.outcome,
      ...answer.usage,
      durationMs: Date.now() - started,
    });
  } catch (err) {
    if (err instanceof StaleTurnError) return null;
    throw err;
  }
}

/** Step 6: the reply goes to delivery; a silent turn is announced at once (waiting clients stop waiting). */
async function handOff(deps: TurnDeps, ctx: TurnContext, eventIds: string[], answer: Answer): Promise<void> {
  if (answer.reply !== null || answer.paused) {
    await rememberTurnTrace(deps.redis, deps.turnTraceKey, ctx.turnId);
    return deps.queues.scheduleDelivery(ctx.conversationKey);
  }
  const keepRecent = deps.adapters.forConversation(ctx.conversationKey)?.capabilities.replaysDeliveries === true;
  const silent = { turnId: ctx.turnId, conversationKey: ctx.conversationKey, eventIds, outcome: 'silent', parts: [] };
  await publishDelivered(deps.redis, deps.deliveredChannel, silent, keepRecent);
}

/** Step 7: the batch leaves the inbox; if more arrived meanwhile, another turn is scheduled. */
async function ackBatch(deps: TurnDeps, conversationKey: string, streamIds: string[], again = false): Promise<void> {
  // Nothing read (an empty inbox): nothing to ack and nothing left, so no next turn, unless `again` asks for one
  // (an approval settled: the messages that waited behind it get their turn). Scheduling on an empty read would
  // spin one turn job after another for ever.
  // The turn's kept model output (its batch is committed) goes in the same script.
  const kept = deps.modelOutputKey?.(conversationKey);
  const left = streamIds.length ? await deps.inbox.ack(conversationKey, streamIds, kept) : 0;
  if (left > 0 || again) await deps.queues.scheduleTurn(conversationKey);
}

/** Stray decisions leave the inbox; the messages waiting behind a pending approval stay, with no turn scheduled. */
async function ackOnly(deps: TurnDeps, conversationKey: string, streamIds: string[]): Promise<void> {
  if (streamIds.length) await deps.inbox.ack(conversationKey, streamIds);
}

type TurnResult = 'done' | 'deferred' | 'stale';

/** Steps 3-6 for the fresh events of a batch, in the turn's span (in the trace of its first message). */
function takeTurn(
  deps: TurnDeps,
  conversationKey: string,
  fresh: InboundEvent[],
  inputs: TurnInputs,
  batch: Batch,
  parentLog: Logger,
): Promise<TurnResult> {
  return inTurnSpan(conversationKey, fresh, batch.enqueuedAt, (span) =>
    turn(deps, conversationKey, fresh, inputs, batch.kept, parentLog, span),
  );
}

async function turn(
  deps: TurnDeps,
  conversationKey: string,
  fresh: InboundEvent[],
  { state, history, reads }: TurnInputs,
  keptValue: string | null,
  parentLog: Logger,
  span: Span,
): Promise<TurnResult> {
  const turnId = randomUUID();
  const eventIds = fresh.map((e) => e.id);
  const log = lazyChild(parentLog, { correlationId: correlationId(eventIds), turnId });
  // State and history were read before the hooks, which need the session (memory recall): one read serves both.
  const ctx = turnContext(turnId, conversationKey, fresh, state.version === 0 ? null : state.sessionId);
  ctx.reads = reads;
  const hooks = deps.hooks ?? [];
  const decision = await decide(hooks, ctx);
  if (ctx.agent) span.setAttribute('gen_ai.agent.name', ctx.agent.name);
  if (decision.action === 'defer') {
    // Nothing consumed: the messages wait in the inbox, in order, for the next look.
    log.info({ delayMs: decision.delayMs }, 'turn deferred by a module');
    await deps.queues.scheduleTurn(conversationKey, decision.delayMs);
    return 'deferred';
  }
  const started = Date.now();
  const kept = { key: deps.modelOutputKey?.(conversationKey), batch: batchHash(eventIds), value: keptValue };
  // What the model sees: the events no hook dropped (all of `fresh` is consumed either way).
  const { input, notices } =
    decision.action === 'reply'
      ? { input: ctx.events.map((e) => toUserItem(e)), notices: [] }
      : await turnInput(deps, ctx);
  const answer =
    decision.action === 'reply'
      ? decidedAnswer(decision, input, deps.runtime.modelName)
      : await runAgent(deps, ctx, openSession(deps, state, history, decision), input, kept, log);
  answer.items = withoutImageBytes(answer.items);
  // Files refused (over the size cap) are named under the answer, even when the model had nothing to say.
  if (notices.length) answer.reply = [answer.reply, ...notices.map((n) => `_${n}_`)].filter(Boolean).join('\n\n');
  const outcome = { outcome: answer.outcome, reply: answer.reply, ...answer.usage };
  const hookWrites = hooks.flatMap((h) => h.commitWrites?.(ctx, outcome) ?? []);
  const seq = await commit(deps, ctx, state, fresh, answer, started, hookWrites);
  endTurnSpan(span, answer.outcome, answer.usage, seq === null);
  if (seq === null) return 'stale';
  log.info({ seq, eventIds, outcome: answer.outcome, ms: Date.now() - started }, 'turn committed');
  turnsTotal.inc({ outcome: answer.outcome });
  turnSeconds.observe((Date.now() - started) / 1000);
  // The kept model output goes with the batch's ack (step 7).
  await handOff(deps, ctx, eventIds, answer);
  for (const h of hooks) {
    await h
      .afterCommit?.(ctx, outcome)
      .catch((err: Error) => log.warn({ err: safeErr(err) }, 'afterCommit hook failed'));
  }
  return 'done';
}

/** The session the runner reads and appends to, on the history read with the state (at most the hooks' limit). */
function openSession(
  deps: TurnDeps,
  state: ConversationState,
  history: AgentInputItem[],
  decision: Decided,
): TurnSession {
  const limit = decision.action === 'run' ? (decision.historyLimit ?? Infinity) : Infinity;
  return TurnSession.withHistory(deps.db, state.sessionId, Math.min(deps.historyLimit, limit), history);
}

export async function processConversation(deps: TurnDeps, conversationKey: string, attempt = 0): Promise<void> {
  const log = lazyChild(deps.log, { conversation: conversationKey });
  const batch = await readBatch(deps, conversationKey, log);
  const ids = batch.events.map((e) => e.id);
  const inputs = ids.length
    ? await loadTurnInputs(deps.db, conversationKey, batch.events, deps.historyLimit, readsOf(deps.hooks))
    : undefined;
  let fresh = inputs ? await skipConsumed(deps, conversationKey, batch.events, inputs) : [];
  // A run waiting for an approval holds the conversation: its decision or expiry goes first (approval-turn.ts).
  const step = await approvalStep(deps, conversationKey, fresh, log, inputs?.approvalPending ?? true);
  if (step.kind === 'waiting')
    return ackOnly(
      deps,
      conversationKey,
      step.drop.map((e) => batch.idOf.get(e)!),
    );
  if (step.kind === 'handled') {
    const consumed = step.consumed.map((e) => batch.idOf.get(e)!);
    if (step.stale && attempt < 3) return processConversation(deps, conversationKey, attempt + 1);
    if (step.stale) throw new StaleTurnError(`conversation ${conversationKey} kept moving on; retrying the job`);
    return ackBatch(deps, conversationKey, consumed, true);
  }
  fresh = step.fresh;
  const result = inputs && fresh.length ? await takeTurn(deps, conversationKey, fresh, inputs, batch, log) : 'done';
  if (result === 'deferred') return;
  if (result === 'stale') {
    if (attempt >= 3) throw new StaleTurnError(`conversation ${conversationKey} kept moving on; retrying the job`);
    log.warn('turn was stale; starting over');
    return processConversation(deps, conversationKey, attempt + 1);
  }
  await ackBatch(deps, conversationKey, batch.streamIds);
}
