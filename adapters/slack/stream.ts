/**
 * Live answers on Slack through the chat streaming API, in the thread of the message being answered: the
 * ChatStreamer of @slack/web-api starts the stream (chat.startStream) and appends markdown (chat.appendStream).
 * A stream lives in the process that started it; whole-text edits (the outbox's committed reply, a retried turn
 * taking over an orphan) end the stream with chat.stopStream and replace its text with chat.update, which works
 * from any process. Parts after the first follow the stream into its thread.
 */
import { WebAPIPlatformError, type ChatStreamer } from '@slack/web-api';
import type { LivePreviewOps } from '../../src/core/adapter.js';
import type { ConversationRef } from '../../src/core/types.js';
import { mapSlackError, type SlackClients } from './client.js';
import { SLACK_STREAM_INTERVAL_MS, SLACK_STREAM_MIN_CHARS } from './limits.js';

/** Slack's answer to appending to (or stopping) a stream that already ended. */
const NOT_STREAMING = 'message_not_in_streaming_state';

/** Streams remembered per process (each answer's own, until its reply is delivered). */
const MAX_OPEN_STREAMS = 1_000;

const codeOf = (err: unknown) => (err instanceof WebAPIPlatformError ? err.data.error : undefined);

export function slackStreamPreview(clients: SlackClients): LivePreviewOps {
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
        await client.chat.update({ channel: ref.channel, ts, text });
      }),
    remove: (ref, ts) =>
      call('chat.delete', async () => {
        streams.delete(ts);
        await (await clients.forTeam(ref.tenant)).chat.delete({ channel: ref.channel, ts });
      }),
  };
}
