/**
 * Live answers on Slack through the chat streaming API, in the thread of the message being answered: the
 * ChatStreamer of @slack/web-api starts the stream (chat.startStream) and appends markdown (chat.appendStream).
 * A stream lives in the process that started it; whole-text edits (the outbox's committed reply, a retried turn
 * taking over an orphan) end the stream with chat.stopStream and replace its text with chat.update, which works
 * from any process. Parts after the first follow the stream into its thread.
 *
 * chat.startStream takes no idempotency key and no metadata, so a worker killed after Slack started a stream but
 * before its ts was recorded would leave it open for good. Every whole-text edit marks the message as settled
 * (metadata `gateway_preview`); `unsettled` lists the thread for the bot's messages without any gateway metadata
 * (neither a settled preview nor a posted part), which is where the retried attempt finds that stream.
 */
import { WebAPIPlatformError, type ChatStreamer } from '@slack/web-api';
import type { LivePreviewOps } from '../../src/core/adapter.js';
import type { ConversationRef } from '../../src/core/types.js';
import { mapSlackError, type SlackClients } from './client.js';
import { SLACK_STREAM_INTERVAL_MS, SLACK_STREAM_MIN_CHARS } from './limits.js';

/** The metadata event type a preview gets at its first whole-text edit: no longer an orphan to look for. */
const PREVIEW_EVENT = 'gateway_preview';

/** Slack's answer to appending to (or stopping) a stream that already ended. */
const NOT_STREAMING = 'message_not_in_streaming_state';

/** Streams remembered per process (each answer's own, until its reply is delivered). */
const MAX_OPEN_STREAMS = 1_000;

const codeOf = (err: unknown) => (err instanceof WebAPIPlatformError ? err.data.error : undefined);

/** Slack's clock may differ from ours: how far before `since` a listing looks. */
const CLOCK_SLACK_SECONDS = 60;

/** Whose messages are the bot's own in a workspace. */
export type BotIdentityOf = (team: string) => Promise<{ botUserId: string; botId?: string }>;

export function slackStreamPreview(clients: SlackClients, identityOf: BotIdentityOf): LivePreviewOps {
  const streams = new Map<string, ChatStreamer>(); // ts -> the stream this process appends to
  const call = async <T>(method: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw mapSlackError(err, method);
    }
  };
  const threadOf = (ref: ConversationRef, replyTo?: string) => ref.thread ?? replyTo;

  return {
    minIntervalMs: SLACK_STREAM_INTERVAL_MS,
    minChars: SLACK_STREAM_MIN_CHARS,
    continueIn: (ref, replyTo) => {
      const thread = threadOf(ref, replyTo);
      return thread ? { ...ref, thread } : ref;
    },
    post: (ref, text, replyTo, recipient) =>
      call('chat.startStream', async () => {
        const thread = threadOf(ref, replyTo);
        if (!thread) throw new Error('slack stream: no message to answer in a thread');
        const client = await clients.forTeam(ref.tenant);
        // Outside a DM Slack wants to know whom the stream is for; buffer_size 1: the preview paces itself.
        const streamer = client.chatStream({
          channel: ref.channel,
          thread_ts: thread,
          ...(ref.kind !== 'dm' && recipient ? { recipient_team_id: ref.tenant, recipient_user_id: recipient } : {}),
          buffer_size: 1,
        });
        await streamer.append({ markdown_text: text });
        const ts = streamer.ts;
        if (!ts) throw new Error('slack chat.startStream: response without ts');
        streams.set(ts, streamer);
        // A stream whose reply another process delivered is never edited here: keep only the newest.
        if (streams.size > MAX_OPEN_STREAMS) streams.delete(streams.keys().next().value!);
        return ts;
      }),
    append: (ref, ts, more) =>
      call('chat.appendStream', async () => {
        const streamer = streams.get(ts);
        if (streamer) await streamer.append({ markdown_text: more });
        else
          await (await clients.forTeam(ref.tenant)).chat.appendStream({
            channel: ref.channel,
            ts,
            markdown_text: more,
          });
      }),
    edit: (ref, ts, text) =>
      call('chat.update', async () => {
        streams.delete(ts);
        const client = await clients.forTeam(ref.tenant);
        // Idempotent: a stream already stopped (by an earlier attempt, or Slack's own timeout) is simply updated.
        await client.chat.stopStream({ channel: ref.channel, ts }).catch((err: unknown) => {
          if (codeOf(err) !== NOT_STREAMING) throw err;
        });
        await client.chat.update({
          channel: ref.channel,
          ts,
          text,
          metadata: { event_type: PREVIEW_EVENT, event_payload: { preview: ts } },
        });
      }),
    unsettled: (ref, replyTo, since) =>
      call('conversations.replies', async () => {
        const thread = threadOf(ref, replyTo);
        if (!thread) return [];
        const client = await clients.forTeam(ref.tenant);
        const me = await identityOf(ref.tenant);
        const res = await client.conversations.replies({
          channel: ref.channel,
          ts: thread,
          oldest: String(since.getTime() / 1000 - CLOCK_SLACK_SECONDS),
          include_all_metadata: true,
          limit: 200,
        });
        return (res.messages ?? [])
          .filter(
            (m) =>
              m.ts &&
              m.ts !== thread &&
              !m.metadata &&
              (m.user === me.botUserId || (me.botId !== undefined && m.bot_id === me.botId)),
          )
          .map((m) => m.ts!)
          .sort()
          .reverse(); // newest first (ts strings share one format, so they sort as text)
      }),
    remove: (ref, ts) =>
      call('chat.delete', async () => {
        streams.delete(ts);
        await (await clients.forTeam(ref.tenant)).chat.delete({ channel: ref.channel, ts });
      }),
  };
}
