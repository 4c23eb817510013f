/**
 * Sending one rendered part, and the typing sign, through grammY's Api.
 *
 * grammY core never retries on its own (only the separate auto-retry plugin does, and it is not installed), so a
 * 429 surfaces here as a GrammyError and becomes RateLimitedError: the outbound stage waits and retries the same
 * part, keeping parts in order. Telegram's refusals arrive as GrammyError (error_code, description, parameters);
 * network failures as HttpError, whose message never contains the token.
 */
import { approvalButtonData } from '../../src/core/adapter.js';
import { GrammyError, type Api } from 'grammy';
import type { Logger } from 'pino';
import { PermanentSendError, RateLimitedError } from '../../src/core/errors.js';
import type { ConversationRef, RenderedPart, SendReceipt } from '../../src/core/types.js';
import { TYPING_REFRESH_MS } from './limits.js';
import { toPlainText } from './markdownv2.js';
import { safeErr } from '../../src/observability/logger.js';
import { keepTyping } from '../kit/typing.js';

/** Numeric chat ids as numbers (they fit in 52 bits); `@channelname` stays a string. */
export function chatIdOf(ref: ConversationRef): number | string {
  return /^-?\d+$/.test(ref.channel) ? Number(ref.channel) : ref.channel;
}

function threadOf(ref: ConversationRef): { message_thread_id?: number } {
  return ref.thread && /^\d+$/.test(ref.thread) ? { message_thread_id: Number(ref.thread) } : {};
}

const isParseError = (e: GrammyError) => e.error_code === 400 && /can't parse entities/i.test(e.description);

/** Telegram's answer -> the error kinds the outbound stage understands; anything else is rethrown (transient). */
export function mapSendError(err: unknown): unknown {
  if (!(err instanceof GrammyError)) return err;
  const d = err.description;
  if (err.error_code === 429) {
    const s = err.parameters.retry_after ?? 1;
    return new RateLimitedError(s * 1000, `telegram rate limit: retry after ${s} s`);
  }
  if (err.error_code === 403) {
    if (/bot was blocked by the user/i.test(d)) return new PermanentSendError('blocked', d);
    return new PermanentSendError('forbidden', d); // kicked, not a member, user deactivated, can't initiate
  }
  if (err.error_code === 400) {
    if (/chat not found|message thread not found|topic_deleted/i.test(d)) return new PermanentSendError('not_found', d);
    // A group upgraded to a supergroup has a new id; the old one will never work again.
    if (err.parameters.migrate_to_chat_id !== undefined) {
      return new PermanentSendError('not_found', `${d} (migrated to ${err.parameters.migrate_to_chat_id})`);
    }
  }
  return err;
}

/** Approve / Reject under a prompt: the callback data is the shared button form (src/core/adapter.ts). */
export function approvalKeyboard(approvalId: string) {
  return {
    inline_keyboard: [
      [
        { text: 'Approve', callback_data: approvalButtonData(approvalId, true) },
        { text: 'Reject', callback_data: approvalButtonData(approvalId, false) },
      ],
    ],
  };
}

export class TelegramSender {
  constructor(
    private readonly api: Api,
    private readonly log: () => Logger,
  ) {}

  async send(ref: ConversationRef, part: RenderedPart): Promise<SendReceipt> {
    const base = {
      ...threadOf(ref),
      ...(part.approvalId ? { reply_markup: approvalKeyboard(part.approvalId) } : {}),
      // Only the first part answers the message; the rest follow it. Still send if that message is gone.
      ...(part.replyTo && part.index === 0 && /^\d+$/.test(part.replyTo)
        ? { reply_parameters: { message_id: Number(part.replyTo), allow_sending_without_reply: true } }
        : {}),
    };
    try {
      const msg = await this.api.sendMessage(chatIdOf(ref), part.text, { ...base, parse_mode: 'MarkdownV2' });
      return { platformMessageId: String(msg.message_id) };
    } catch (err) {
      if (!(err instanceof GrammyError && isParseError(err))) throw mapSendError(err);
      // The formatting was refused: the reader must still get the words. Same part, no parse_mode.
      this.log().warn(
        { chat: ref.channel, part: part.index, err: err.description },
        'telegram refused MarkdownV2, resending as plain text',
      );
      try {
        const msg = await this.api.sendMessage(chatIdOf(ref), toPlainText(part.text), base);
        return { platformMessageId: String(msg.message_id) };
      } catch (err2) {
        throw mapSendError(err2);
      }
    }
  }

  /**
   * An approval prompt becomes its answer (or a resumed run's preview): the text is replaced and the keyboard goes
   * with it; or the run's next prompt, with that approval's keyboard. The same text again (a retried
   * finalisation) is already done.
   */
  async replace(ref: ConversationRef, messageId: string, text: string, approvalId?: string): Promise<void> {
    const chat = chatIdOf(ref);
    const keyboard = approvalId ? { reply_markup: approvalKeyboard(approvalId) } : {};
    try {
      await this.api.editMessageText(chat, Number(messageId), text, { parse_mode: 'MarkdownV2', ...keyboard });
    } catch (err) {
      if (err instanceof GrammyError && /message is not modified/i.test(err.description)) return;
      if (!(err instanceof GrammyError && isParseError(err))) throw mapSendError(err);
      try {
        await this.api.editMessageText(chat, Number(messageId), toPlainText(text), keyboard);
      } catch (err2) {
        throw mapSendError(err2);
      }
    }
  }

  /** `typing` now and every ~4.5 s until stopped. Best effort: errors are logged at debug and never thrown. */
  async startTyping(ref: ConversationRef): Promise<() => Promise<void>> {
    const loop = keepTyping(async () => {
      try {
        await this.api.sendChatAction(chatIdOf(ref), 'typing', threadOf(ref));
        return true;
      } catch (err) {
        this.log().debug({ chat: ref.channel, err: safeErr(err) }, 'telegram typing failed');
        // Blocked, kicked, chat gone: no point in asking again every few seconds.
        return !(mapSendError(err) instanceof PermanentSendError);
      }
    }, TYPING_REFRESH_MS);
    await loop.first;
    return loop.stop;
  }
}
