/**
 * Outbound: one rendered part -> one chat.postMessage, and the "working on it" reaction.
 * Exactly one Slack call per part, no retries here (see client.ts): the outbound stage retries, paces and records
 * receipts, which keeps the unavoidable "sent but receipt not stored" window to this one call.
 */
import { approvalButtonData } from '../../src/core/adapter.js';
import type { Logger } from 'pino';
import { WebAPIPlatformError, type WebClient } from '@slack/web-api';
import type { ThreadTracker } from '../kit/thread-tracker.js';
import type { ConversationRef, RenderedPart, SendReceipt } from '../../src/core/types.js';
import { mapSlackError, type SlackClients } from './client.js';
import { threadKey } from './parse.js';
import { safeErr } from '../../src/observability/logger.js';

export const DEFAULT_TYPING_REACTION = 'hourglass_flowing_sand';

/** The metadata event type on every part the gateway posts (its payload: the part's idempotency key). */
const PART_EVENT = 'gateway_reply_part';

/** Longest the remover holds the answer back while a slow reactions.add / remove completes. */
const REMOVE_WAIT_MS = 1_000;

const errorCode = (err: unknown) => (err instanceof WebAPIPlatformError ? err.data.error : (err as Error).message);

/** The prompt as Block Kit: its text, then Approve / Reject buttons (action ids in the shared button form). */
export function approvalBlocks(text: string, approvalId: string) {
  const button = (label: string, approve: boolean, style: 'primary' | 'danger') => ({
    type: 'button' as const,
    text: { type: 'plain_text' as const, text: label },
    style,
    action_id: approvalButtonData(approvalId, approve),
    value: approvalId,
  });
  return [
    { type: 'section', text: { type: 'mrkdwn', text: text.slice(0, 3000) } },
    { type: 'actions', elements: [button('Approve', true, 'primary'), button('Reject', false, 'danger')] },
  ];
}

export class SlackSender {
  constructor(
    private readonly clients: SlackClients,
    private readonly threads: ThreadTracker,
    private readonly log: Logger,
    private readonly typingReaction = DEFAULT_TYPING_REACTION,
  ) {}

  async send(ref: ConversationRef, part: RenderedPart): Promise<SendReceipt> {
    const client = await this.clients.forTeam(ref.tenant);
    let ts: string | undefined;
    try {
      const res = await client.chat.postMessage({
        channel: ref.channel,
        text: part.text,
        mrkdwn: true,
        ...(part.approvalId ? { blocks: approvalBlocks(part.text, part.approvalId) } : {}),
        ...(ref.thread ? { thread_ts: ref.thread } : {}),
        // Invisible to people: lets findSent recognise this part after a crash lost Slack's answer.
        metadata: { event_type: PART_EVENT, event_payload: { part: part.idempotencyKey } },
      });
      ts = res.ts;
    } catch (err) {
      throw mapSlackError(err, 'chat.postMessage');
    }
    if (!ts) throw new Error('slack chat.postMessage: response without ts');
    if (ref.kind === 'group' && !ref.thread) {
      // A top-level post in a channel (a proactive check-in, or replies with replyInThread off) starts a thread the
      // bot takes part in: answers there need no mention. Best effort: the message is already out.
      await this.threads.add(threadKey(ref.tenant, ref.channel, ts)).catch((err: Error) => {
        this.log.warn({ err: safeErr(err) }, 'slack: could not record thread of a top-level post');
      });
    }
    return { platformMessageId: ts };
  }

  /**
   * The part's message if Slack has it (posted since `since`, found by the metadata `send` attaches), from the
   * thread's replies or the channel's history. Slack's clock may differ from ours: a minute of slack.
   */
  async findSent(ref: ConversationRef, part: RenderedPart, since: Date): Promise<SendReceipt | undefined> {
    const client = await this.clients.forTeam(ref.tenant);
    const window = { channel: ref.channel, oldest: String(since.getTime() / 1000 - 60), include_all_metadata: true };
    let messages: { ts?: string; metadata?: { event_type?: string; event_payload?: Record<string, unknown> } }[];
    try {
      const res = ref.thread
        ? await client.conversations.replies({ ...window, ts: ref.thread, limit: 200 })
        : await client.conversations.history({ ...window, limit: 200 });
      messages = res.messages ?? [];
    } catch (err) {
      throw mapSlackError(err, ref.thread ? 'conversations.replies' : 'conversations.history');
    }
    const m = messages.find(
      (m) => m.metadata?.event_type === PART_EVENT && m.metadata.event_payload?.part === part.idempotencyKey,
    );
    return m?.ts ? { platformMessageId: m.ts } : undefined;
  }

  /**
   * An approval prompt becomes its answer: chat.update with the new text and no blocks (the buttons go); or the
   * run's next prompt, with that approval's buttons.
   */
  async replace(ref: ConversationRef, messageId: string, text: string, approvalId?: string): Promise<void> {
    const client = await this.clients.forTeam(ref.tenant);
    const blocks = approvalId ? approvalBlocks(text, approvalId) : [];
    try {
      await client.chat.update({ channel: ref.channel, ts: messageId, text, blocks });
    } catch (err) {
      throw mapSlackError(err, 'chat.update');
    }
  }

  /**
   * Slack has no typing indicator for bots outside the assistant surface, so a reaction on the user's message
   * (`replyTo` = its ts) stands in for it. Best effort: never throws, and the remover is idempotent.
   *
   * Resolves without waiting for reactions.add: the worker may finish the turn while Slack is still answering it,
   * and must hold a remover by then, or the reaction would stay on the message for good. The remover waits for the
   * add to land before removing, but holds the answer back at most REMOVE_WAIT_MS; past that the removal finishes in
   * the background.
   */
  async startTyping(ref: ConversationRef, replyTo?: string): Promise<() => Promise<void>> {
    const noop = async () => undefined;
    if (!replyTo) return noop;
    const target = { channel: ref.channel, timestamp: replyTo, name: this.typingReaction };
    let client: WebClient;
    try {
      client = await this.clients.forTeam(ref.tenant);
    } catch (err) {
      this.log.debug({ err: safeErr(err) }, 'slack: typing reaction not added');
      return noop;
    }
    const shown = client.reactions.add(target).then(
      () => true,
      (err: unknown) => {
        const code = errorCode(err);
        if (code === 'already_reacted') return true;
        this.log.debug({ code }, 'slack: typing reaction not added');
        return false;
      },
    );
    let removed = false;
    return async () => {
      if (removed) return;
      removed = true;
      const removal = shown.then(async (ok) => {
        if (!ok) return;
        try {
          await client.reactions.remove(target);
        } catch (err) {
          this.log.debug({ code: errorCode(err) }, 'slack: typing reaction not removed');
        }
      });
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<void>((r) => (timer = setTimeout(r, REMOVE_WAIT_MS)));
      await Promise.race([removal, waited]);
      clearTimeout(timer);
    };
  }
}
