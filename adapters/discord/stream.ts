/**
 * Live previews on Discord: one message posted at the first text, then edited in place (PATCH), at most about
 * once a second per conversation: Discord allows 5 message edits per 5 s in a channel, and the final edit (the
 * outbox turning the preview into the reply) must not be the one rate-limited. Mentions never ping.
 */
import type { REST } from '@discordjs/rest';
import { Routes } from 'discord-api-types/v10';
import type { LivePreviewOps } from '../../src/core/adapter.js';
import { mapSendError, nonceFor, targetChannel } from './send.js';

export const DISCORD_PREVIEW_INTERVAL_MS = 1_200;
export const DISCORD_PREVIEW_MIN_CHARS = 20;

export function discordPreview(rest: REST): LivePreviewOps {
  const call = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw mapSendError(err);
    }
  };
  return {
    minIntervalMs: DISCORD_PREVIEW_INTERVAL_MS,
    minChars: DISCORD_PREVIEW_MIN_CHARS,
    post: (ref, text, replyTo, _recipient, idempotencyKey) =>
      call(async () => {
        const body = {
          content: text,
          // A worker killed between this post and recording its id: the retried attempt gets the same message.
          ...(idempotencyKey ? { nonce: nonceFor(idempotencyKey), enforce_nonce: true } : {}),
          allowed_mentions: { parse: [], replied_user: false },
          ...(replyTo ? { message_reference: { message_id: replyTo, fail_if_not_exists: false } } : {}),
        };
        return ((await rest.post(Routes.channelMessages(targetChannel(ref)), { body })) as { id: string }).id;
      }),
    edit: (ref, id, text) =>
      call(async () => {
        const body = { content: text, allowed_mentions: { parse: [] } };
        await rest.patch(Routes.channelMessage(targetChannel(ref), id), { body });
      }),
    remove: (ref, id) =>
      call(async () => {
        await rest.delete(Routes.channelMessage(targetChannel(ref), id));
      }),
  };
}
