/**
 * One update, whichever way it arrived (webhook or polling): parse it, then submit the event, run the command
 * and post its answer, or log why it was ignored. Callback queries are answered at once, whatever happens next,
 * so the user's button stops spinning. Throws only what the caller must not acknowledge: IngressError(400) for
 * a malformed update, and failures of the sink (the update must be delivered again).
 */
import type { Api } from 'grammy';
import type { Logger } from 'pino';
import type { IngressSink } from '../../src/core/adapter.js';
import type { ConversationRef, RenderedPart, SendReceipt } from '../../src/core/types.js';
import { parseUpdate, type BotIdentity, type ParseOptions } from './parse.js';
import { safeErr } from '../../src/observability/logger.js';

export type DispatchResult = { status: 'accepted' | 'duplicate' | 'command' | 'ignored'; reason?: string };

/** A decision button: the command's answer is shown on the button (a toast only the presser sees). */
async function runApproval(
  deps: DispatchDeps,
  outcome: { invocation: Parameters<IngressSink['command']>[0]; callbackQueryId: string },
  sink: IngressSink,
  log: Logger,
): Promise<DispatchResult> {
  let text = 'That was already decided.';
  if (await sink.claim(outcome.invocation.id)) {
    try {
      text = (await sink.command(outcome.invocation)).text;
    } catch (err) {
      log.error({ err: safeErr(err) }, 'telegram approval decision failed');
      text = 'Sorry, that did not work. Please try again.';
    }
  }
  await deps.api
    .answerCallbackQuery(outcome.callbackQueryId, { text: text.replace(/`/g, '').slice(0, 200) })
    .catch((err: Error) => log.debug({ err: safeErr(err) }, 'answerCallbackQuery failed'));
  return { status: 'command' };
}

export interface DispatchDeps {
  api: Api;
  options: ParseOptions;
  render(markdown: string): string[];
  send(ref: ConversationRef, part: RenderedPart): Promise<SendReceipt>;
}

export async function dispatchUpdate(
  deps: DispatchDeps,
  body: unknown,
  bot: BotIdentity,
  sink: IngressSink,
  log: Logger,
): Promise<DispatchResult> {
  const outcome = parseUpdate(body, bot, deps.options);
  const updateId = (body as { update_id?: number }).update_id;
  if (outcome.kind === 'approval') return runApproval(deps, outcome, sink, log);
  const qid = outcome.kind === 'command' ? undefined : outcome.callbackQueryId;
  const answered = qid
    ? deps.api
        .answerCallbackQuery(qid)
        .catch((err: Error) => log.debug({ err: safeErr(err) }, 'answerCallbackQuery failed'))
    : Promise.resolve();
  try {
    switch (outcome.kind) {
      case 'ignored':
        log.debug({ update_id: updateId, reason: outcome.reason }, 'telegram update ignored');
        return { status: 'ignored', reason: outcome.reason };
      case 'event':
        return { status: await sink.submit(outcome.event) };
      case 'command':
        return await runCommand(deps, outcome.invocation, outcome.replyTo, sink, log);
    }
  } finally {
    await answered;
  }
}

/**
 * Commands run at most once: the update id is claimed before running, so a redelivered update (webhook retry,
 * poller restart) neither runs the command twice nor answers twice. A failing command gets a short apology
 * rather than a redelivery, since the claim is already spent.
 */
async function runCommand(
  deps: DispatchDeps,
  invocation: Parameters<IngressSink['command']>[0],
  replyTo: string,
  sink: IngressSink,
  log: Logger,
): Promise<DispatchResult> {
  if (!(await sink.claim(invocation.id))) return { status: 'duplicate' };
  let text: string;
  try {
    text = (await sink.command(invocation)).text;
  } catch (err) {
    log.error({ command: invocation.name, err: safeErr(err) }, 'telegram command failed');
    text = 'Sorry, that command failed. Please try again later.';
  }
  // Telegram has no ephemeral messages in chats: the answer is posted in the chat (and topic) it came from.
  const parts = deps.render(text);
  try {
    for (const [index, partText] of parts.entries()) {
      await deps.send(invocation.conversation, {
        text: partText,
        index,
        total: parts.length,
        replyTo,
        idempotencyKey: `${invocation.id}:${index}`,
      });
    }
  } catch (err) {
    log.warn({ command: invocation.name, err: safeErr(err) }, 'telegram command answer not delivered');
  }
  return { status: 'command' };
}
