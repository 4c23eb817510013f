/**
 * Sending one rendered part, and the typing indicator. Model output must never ping anyone, so every message
 * carries `allowed_mentions: { parse: [] }`. A retried send must not post twice: the part's idempotency key is
 * hashed into Discord's `nonce` with `enforce_nonce`, and Discord answers a repeat with the message it already made.
 */
import { approvalButtonData } from '../../src/core/adapter.js';
import { createHash } from 'node:crypto';
import { DiscordAPIError, RateLimitError, type REST } from '@discordjs/rest';
import { Routes } from 'discord-api-types/v10';
import type { Logger } from 'pino';
import { PermanentSendError, RateLimitedError } from '../../src/core/errors.js';
import type { ConversationRef, RenderedPart, SendReceipt } from '../../src/core/types.js';
import { DISCORD_NONCE_MAX, DISCORD_TYPING_REFRESH_MS } from './limits.js';
import { describeRestError } from './client.js';
import { keepTyping } from '../kit/typing.js';

/** Where a conversation's messages go: a thread is its own channel on Discord. */
export function targetChannel(ref: ConversationRef): string {
  return ref.thread ?? ref.channel;
}

export function nonceFor(idempotencyKey: string): string {
  return createHash('sha256').update(idempotencyKey).digest('hex').slice(0, DISCORD_NONCE_MAX);
}

export interface SendOptions {
  /** Ping the author of the message replied to (only for a deliberately addressed reply). Default false. */
  pingReplies?: boolean;
}

export function buildMessageBody(part: RenderedPart, opts: SendOptions = {}): Record<string, unknown> {
  const reply = part.replyTo && part.index === 0 ? part.replyTo : undefined;
  return {
    content: part.text,
    allowed_mentions: reply ? { parse: [], replied_user: opts.pingReplies ?? false } : { parse: [] },
    // A deleted original must not make the reply fail: post it without the reference instead.
    ...(reply ? { message_reference: { message_id: reply, fail_if_not_exists: false } } : {}),
    nonce: nonceFor(part.idempotencyKey),
    enforce_nonce: true,
    ...(part.approvalId ? { components: approvalComponents(part.approvalId) } : {}),
  };
}

/** Approve (green) / Reject (red) buttons in one action row; custom ids in the shared button form. */
export function approvalComponents(approvalId: string) {
  const button = (label: string, approve: boolean) => ({
    type: 2,
    style: approve ? 3 : 4,
    label,
    custom_id: approvalButtonData(approvalId, approve),
  });
  return [{ type: 1, components: [button('Approve', true), button('Reject', false)] }];
}

/** An approval prompt becomes its answer (buttons removed), or the run's next prompt (that approval's buttons). */
export async function replacePrompt(
  rest: REST,
  ref: ConversationRef,
  messageId: string,
  text: string,
  approvalId?: string,
) {
  try {
    const components = approvalId ? approvalComponents(approvalId) : [];
    const body = { content: text, components, allowed_mentions: { parse: [] } };
    await rest.patch(Routes.channelMessage(targetChannel(ref), messageId), { body });
  } catch (err) {
    throw mapSendError(err);
  }
}

/** Discord JSON error codes that mean "this send can never succeed". */
const PERMANENT: Record<number, ConstructorParameters<typeof PermanentSendError>[0]> = {
  10003: 'not_found', // Unknown Channel
  10013: 'not_found', // Unknown User
  50001: 'forbidden', // Missing Access
  50013: 'forbidden', // Missing Permissions
  50083: 'forbidden', // Thread is archived (and locked)
  50007: 'blocked', // Cannot send messages to this user (DMs closed, blocked, no shared guild)
  50035: 'invalid', // Invalid Form Body
};

export function mapSendError(err: unknown): unknown {
  if (err instanceof RateLimitError)
    return new RateLimitedError(Math.max(1000, Math.ceil(Math.max(err.retryAfter, err.timeToReset))));
  if (err instanceof DiscordAPIError) {
    const reason = typeof err.code === 'number' ? PERMANENT[err.code] : undefined;
    const msg = `discord ${err.status} ${err.code}: ${err.message}`;
    if (reason) return new PermanentSendError(reason, msg);
    if (err.status === 403) return new PermanentSendError('forbidden', msg);
    if (err.status === 404) return new PermanentSendError('not_found', msg);
  }
  return err; // 5xx, network: transient, the outbound stage retries with backoff
}

export async function sendPart(
  rest: REST,
  ref: ConversationRef,
  part: RenderedPart,
  opts: SendOptions = {},
): Promise<SendReceipt> {
  try {
    const msg = (await rest.post(Routes.channelMessages(targetChannel(ref)), {
      body: buildMessageBody(part, opts),
    })) as { id: string };
    return { platformMessageId: msg.id };
  } catch (err) {
    throw mapSendError(err);
  }
}

/** Typing now and every ~8 s until stopped. Best effort: failures are logged at debug and never thrown. */
export function startTyping(
  rest: REST,
  ref: ConversationRef,
  log: Logger,
  intervalMs = DISCORD_TYPING_REFRESH_MS,
): () => Promise<void> {
  const channel = targetChannel(ref);
  const show = () =>
    rest.post(Routes.channelTyping(channel)).then(
      () => undefined,
      (err: unknown) => log.debug({ channel, err: describeRestError(err) }, 'discord typing failed'),
    );
  // Not awaited: the REST client may queue the call behind a rate limit, and the turn must not wait for it.
  return keepTyping(show, intervalMs).stop;
}
