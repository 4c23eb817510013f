/**
 * Turns of a conversation whose run waits for a person's approval (src/approvals). While an approval is pending,
 * the conversation's inbox holds: messages that arrive wait there, in order, and run after it. The decision (an
 * inbound event of kind `approval`, checked and deduplicated by the `/approve` / `/reject` commands) or the
 * expiry goes first: the run resumes from its stored RunState (or expires), and the answer, committed with the
 * approval's new status in one transaction, replaces the prompt. Then the waiting messages get their turn.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { approvalNote, type PausedRun, type TurnOutput } from '../agent/runtime.js';
import type { TurnContext, TurnOutcome } from '../core/module.js';
import { conversationRefSchema, type ConversationRef, type InboundEvent } from '../core/types.js';
import { safeErr } from '../observability/logger.js';
import { turnsTotal } from '../observability/metrics.js';
import {
  conversationRefOf,
  insertApproval,
  newApprovalId,
  pendingApproval,
  promptMessageOf,
  settleApproval,
  type Approval,
} from '../approvals/store.js';
import { commitTurn, loadConversation, StaleTurnError } from './commit.js';
import { APOLOGY, assistantItem, turnContext, type TurnDeps } from './context.js';

export const DEFAULT_APPROVAL_TIMEOUT_MS = 15 * 60_000;

export type ApprovalStep =
  /** Nothing pending: the batch runs as usual (decisions for settled approvals are dropped from it). */
  | { kind: 'none'; fresh: InboundEvent[] }
  /** Pending, undecided: the batch waits in the inbox; `drop` are stray decisions to remove. */
  | { kind: 'waiting'; drop: InboundEvent[] }
  /** The approval was decided or expired in a committed turn; `consumed` leave the inbox. */
  | { kind: 'handled'; consumed: InboundEvent[]; stale?: boolean };

export async function approvalStep(
  deps: TurnDeps,
  conversationKey: string,
  fresh: InboundEvent[],
  log: Logger,
  /** Whether the turn's read saw a pending approval (src/worker/commit.ts); unknown: read it here. */
  maybePending = true,
): Promise<ApprovalStep> {
  const pending = maybePending ? await pendingApproval(deps.db, conversationKey) : undefined;
  // A decision for an approval no longer pending (it raced the expiry, or an earlier decision) changes nothing.
  if (!pending) return { kind: 'none', fresh: fresh.filter((e) => e.kind !== 'approval') };
  const decisions = fresh.filter((e) => e.kind === 'approval');
  const stray = decisions.filter((e) => e.approval?.id !== pending.id);
  const decision = decisions.find((e) => e.approval?.id === pending.id);
  const expired = pending.expiresAt.getTime() <= Date.now();
  if (!decision && !expired) return { kind: 'waiting', drop: stray };
  const done = await settleTurn(deps, conversationKey, pending, expired ? undefined : decision, decision, log);
  return { kind: 'handled', consumed: decision ? [...stray, decision] : stray, stale: !done };
}

/** The prompt's text; platforms without buttons (the local channel) name the commands instead. */
export function promptText(p: PausedRun, approvalId: string, who: string, timeoutMs: number, buttons: boolean) {
  const args = p.args.replace(/`/g, "'").slice(0, 300);
  const lines = [
    `**Approval needed**: I want to run \`${p.tool}\`${args && args !== '{}' ? ` with \`${args}\`` : ''}.`,
    `Only ${who} (or an admin) can decide; this expires in ${minutes(timeoutMs)}.`,
  ];
  if (!buttons) lines.push(`Reply \`/approve ${approvalId}\` or \`/reject ${approvalId}\`.`);
  return lines.join('\n');
}

const minutes = (ms: number) =>
  ms >= 60_000 ? `${Math.round(ms / 60_000)} minute${ms >= 90_000 ? 's' : ''}` : `${Math.round(ms / 1000)} seconds`;

/** A paused run's prompt and its approval row, written in the turn's commit. */
export function pauseWrites(deps: TurnDeps, ctx: TurnContext, paused: PausedRun) {
  const approvalId = newApprovalId();
  const timeoutMs = deps.approvalTimeoutMs ?? DEFAULT_APPROVAL_TIMEOUT_MS;
  const buttons = deps.adapters.get(ctx.ref.platform)?.approvals !== undefined;
  const who = ctx.sender.name ?? ctx.sender.id;
  return {
    approvalId,
    prompt: promptText(paused, approvalId, who, timeoutMs, buttons),
    writes: (tx: Parameters<typeof insertApproval>[0]) => [
      insertApproval(tx, {
        id: approvalId,
        conversationKey: ctx.conversationKey,
        turnId: ctx.turnId,
        requester: `${ctx.ref.platform}:${ctx.sender.id}`,
        tool: paused.tool,
        args: paused.args,
        state: paused.state,
        expiresAt: new Date(Date.now() + timeoutMs),
      }),
    ],
  };
}

/** Resume (or expire) the pending run and commit its answer. False: a newer turn got there first. */
async function settleTurn(
  deps: TurnDeps,
  conversationKey: string,
  pending: Approval,
  decision: InboundEvent | undefined,
  consumed: InboundEvent | undefined,
  parentLog: Logger,
): Promise<boolean> {
  const turnId = randomUUID();
  const log = parentLog.child({ turnId, approvalId: pending.id });
  const state = await loadConversation(deps.db, conversationKey);
  const ref = consumed?.conversation ?? conversationRefSchema.parse(await conversationRefOf(deps.db, conversationKey));
  const events = consumed ? [consumed] : [];
  const started = Date.now();
  const ctx = decision ? turnContext(turnId, conversationKey, [decision], state.sessionId) : undefined;
  if (ctx) {
    // The run goes on for the person who asked (their memories, their reminders), whoever decided.
    const asker = pending.requester.slice(pending.requester.indexOf(':') + 1);
    if (ctx.sender.id !== asker) {
      ctx.sender = { id: asker };
      ctx.userKey = `${ctx.ref.platform}:${ctx.ref.tenant}:${asker}`;
    }
    // The resumed answer is previewed where it will land: in the prompt (src/live/preview.ts), buttons gone.
    const promptMessageId = (await promptMessageOf(deps.db, pending.id)) ?? undefined;
    ctx.approval = { id: pending.id, requester: pending.requester, promptMessageId };
  }
  let out: TurnOutput | undefined;
  let text: string;
  const approve = decision?.approval?.decision === 'approve';
  if (!decision || !ctx) {
    text = `The request to run \`${pending.tool}\` expired without a decision; nothing was done.`;
  } else {
    try {
      out = await deps.runtime.resume(pending.state, approve, ctx);
      text = out.text;
    } catch (err) {
      log.error({ err: safeErr(err) }, 'resuming an approved run failed; apologising');
      text = APOLOGY;
    }
  }
  const status = !decision ? 'expired' : approve ? 'approved' : 'rejected';
  const by = decision ? `${decision.platform}:${decision.sender.id}` : null;
  const again = out?.paused && ctx ? pauseWrites(deps, ctx, out.paused) : undefined;
  const reply = again?.prompt ?? (text.trim() ? text : '(done)');
  const outcome = again ? 'approval_pending' : `approval_${status}`;
  const usage = {
    inputTokens: out?.inputTokens ?? 0,
    outputTokens: out?.outputTokens ?? 0,
    model: out?.model ?? deps.runtime.modelName,
  };
  // The resumed run's tokens count like any turn's, in the same commit (the asker's usage and budget).
  const hookWrites = ctx
    ? (deps.hooks ?? []).flatMap((h) => h.commitWrites?.(ctx, { outcome, reply: out?.text ?? null, ...usage }) ?? [])
    : [];
  try {
    await commitTurn(deps.db, {
      turnId,
      conversationKey,
      ref,
      state,
      events,
      items: [assistantItem(again && out?.paused ? approvalNote(out.paused.tool) : reply)],
      reply,
      // The answer takes the old prompt's place; so does the next prompt of a run that stops again (its buttons in
      // place of the decided ones), so the conversation keeps one message throughout.
      approvalId: again?.approvalId,
      replacesApproval: pending.id,
      extraWrites: (tx) => [settleApproval(tx, pending.id, status, by), ...(again?.writes(tx) ?? [])],
      hookWrites,
      outcome,
      ...usage,
      durationMs: Date.now() - started,
    });
  } catch (err) {
    if (err instanceof StaleTurnError) return false;
    throw err;
  }
  log.info({ status }, 'approval settled');
  turnsTotal.inc({ outcome: `approval_${status}` });
  await deps.queues.scheduleDelivery(conversationKey);
  // A settled approval is a committed turn like any other: the hooks see it (the agent API finalizes its resume
  // run, or frees a thread whose approval expired). An expiry answers no event.
  const hookCtx = ctx ?? noEventContext(turnId, conversationKey, ref, state.sessionId);
  await afterCommitHooks(deps, hookCtx, { outcome, reply: out?.text ?? null, ...usage }, log);
  return true;
}

/** The context of a turn that answers no event (an expiry). */
function noEventContext(
  turnId: string,
  conversationKey: string,
  ref: ConversationRef,
  sessionId: string | null,
): TurnContext {
  const now = new Date();
  return {
    turnId,
    conversationKey,
    ref,
    events: [],
    userKey: '',
    sender: { id: '' },
    kind: 'approval',
    now,
    sessionId,
    instructions: [],
  };
}

async function afterCommitHooks(deps: TurnDeps, ctx: TurnContext, outcome: TurnOutcome, log: Logger): Promise<void> {
  for (const h of deps.hooks ?? [])
    await h
      .afterCommit?.(ctx, outcome)
      .catch((err: Error) => log.warn({ err: safeErr(err) }, 'afterCommit hook failed'));
}
