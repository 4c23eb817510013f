/**
 * Live answers on Telegram. Private chats: a draft (sendMessageDraft), an ephemeral preview that is never a
 * message; the committed reply is the ordinary sendMessage, which replaces the draft. Groups: a placeholder
 * message posted at the first text and edited in place (editMessageText); the outbox finalises it by editing it
 * into the reply's first part. Text is MarkdownV2 like every send, with the plain text as the fallback.
 */
import { randomInt } from 'node:crypto';
import { GrammyError, type Api } from 'grammy';
import type { LivePreviewOps } from '../../src/core/adapter.js';
import { PermanentSendError } from '../../src/core/errors.js';
import type { ConversationRef } from '../../src/core/types.js';
import { DRAFT_INTERVAL_MS, PREVIEW_MIN_CHARS, previewIntervalMs } from './limits.js';
import { toPlainText } from './markdownv2.js';
import { chatIdOf, mapSendError } from './send.js';

const isParseError = (e: unknown) =>
  e instanceof GrammyError && e.error_code === 400 && /can't parse entities/i.test(e.description);
const notModified = (e: unknown) => e instanceof GrammyError && /message is not modified/i.test(e.description);
const gone = (e: unknown) => e instanceof GrammyError && /message to (edit|delete) not found/i.test(e.description);

function threadOf(ref: ConversationRef): { message_thread_id?: number } {
  return ref.thread && /^\d+$/.test(ref.thread) ? { message_thread_id: Number(ref.thread) } : {};
}

/** MarkdownV2 first; text Telegram refuses to parse goes out plain rather than not at all. */
async function withFallback<T>(text: string, fn: (text: string, markdown: boolean) => Promise<T>): Promise<T> {
  try {
    return await fn(text, true);
  } catch (err) {
    if (!isParseError(err)) throw err;
    return fn(toPlainText(text), false);
  }
}

/** Drafts in private chats, edited placeholders elsewhere, each at its own pace. */
export const telegramPreviewPacing = {
  minIntervalMs: DRAFT_INTERVAL_MS,
  minChars: PREVIEW_MIN_CHARS,
  intervalFor: previewIntervalMs,
  isDraft: (ref: ConversationRef) => ref.kind === 'dm',
};

export function telegramPreview(api: Api): LivePreviewOps {
  const call = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      if (gone(err)) throw new PermanentSendError('not_found', (err as GrammyError).description);
      throw mapSendError(err);
    }
  };
  const mode = (markdown: boolean) => (markdown ? { parse_mode: 'MarkdownV2' as const } : {});
  const draft = (ref: ConversationRef, id: number, text: string) =>
    withFallback(text, (t, md) =>
      api.sendMessageDraft(Number(chatIdOf(ref)), id, t, { ...threadOf(ref), ...mode(md) }),
    );

  return {
    ...telegramPreviewPacing,
    post: (ref, text, replyTo) =>
      call(async () => {
        if (ref.kind === 'dm') {
          const id = randomInt(1, 2 ** 31 - 1); // any non-zero id; versions of one draft animate into each other
          await draft(ref, id, text);
          return String(id);
        }
        const reply =
          replyTo && /^\d+$/.test(replyTo)
            ? { reply_parameters: { message_id: Number(replyTo), allow_sending_without_reply: true } }
            : {};
        const msg = await withFallback(text, (t, md) =>
          api.sendMessage(chatIdOf(ref), t, { ...threadOf(ref), ...reply, ...mode(md) }),
        );
        return String(msg.message_id);
      }),
    edit: (ref, id, text) =>
      call(async () => {
        if (ref.kind === 'dm') return void (await draft(ref, Number(id), text));
        await withFallback(text, (t, md) => api.editMessageText(chatIdOf(ref), Number(id), t, mode(md))).catch(
          (err: unknown) => {
            if (!notModified(err)) throw err; // the same text again (a retried finalisation): already done
          },
        );
      }),
    remove: (ref, id) =>
      call(async () => {
        if (ref.kind === 'dm') return; // a draft fades on its own
        await api.deleteMessage(chatIdOf(ref), Number(id));
      }),
  };
}
