/**
 * The fake Slack's messages, as a Slack user would see them: posted ones and streamed ones (chat.startStream /
 * appendStream / stopStream), with every version a message went through. Streams behave like Slack's: they need a
 * thread, outside DMs a recipient, and appending to (or stopping) a stream that ended answers
 * `message_not_in_streaming_state`. A message still streaming cannot be chat.update'd (`streaming_state_conflict`).
 */

export interface FakeMessage {
  ts: string;
  channel: string;
  thread_ts?: string;
  text: string;
  /** Every text the message showed, in order (the first as posted or started). */
  versions: string[];
  streaming: boolean;
  streamed: boolean;
  deleted: boolean;
  /** When it was posted (ms): `oldest` in conversations.history / replies compares with it. */
  postedAt: number;
  /** chat.postMessage's (or the last chat.update's) `metadata`: history and replies show it with `include_all_metadata`. */
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
  /** The bot that posted it, as history and replies show it. */
  author: Author;
}

export interface Author {
  user?: string;
  bot_id?: string;
}

const metadataOf = (body: Body) => (typeof body.metadata === 'string' ? JSON.parse(body.metadata) : body.metadata);

type Body = Record<string, unknown>;
export type MessageResult = { ok: true; body: Body } | { ok: false; error: string };

/** markdown_text, or the markdown_text chunks (the ChatStreamer sends `chunks`, a JSON string in form bodies). */
function streamText(body: Body): string {
  let chunks = body.chunks;
  if (typeof chunks === 'string') chunks = JSON.parse(chunks);
  const parts = Array.isArray(chunks)
    ? (chunks as Body[]).filter((c) => c.type === 'markdown_text').map((c) => String(c.text ?? ''))
    : [];
  return String(body.markdown_text ?? '') + parts.join('');
}

export class FakeMessages {
  readonly all: FakeMessage[] = [];

  /** Visible messages in `channel` (optionally one thread), in the order they appeared. */
  in(channel: string, thread?: string): FakeMessage[] {
    return this.all.filter(
      (m) => m.channel === channel && !m.deleted && (thread === undefined || m.thread_ts === thread),
    );
  }

  get(ts: string): FakeMessage | undefined {
    return this.all.find((m) => m.ts === ts && !m.deleted);
  }

  posted(body: Body, ts: string, author: Author): void {
    const text = String(body.text ?? '');
    const metadata = metadataOf(body);
    this.all.push({
      ts,
      channel: String(body.channel),
      ...(body.thread_ts ? { thread_ts: String(body.thread_ts) } : {}),
      text,
      versions: [text],
      streaming: false,
      streamed: false,
      deleted: false,
      postedAt: Date.now(),
      ...(metadata ? { metadata } : {}),
      author,
    });
  }

  /** conversations.history (top-level messages) or .replies (a thread), newest first, from `oldest` on. */
  private read(method: string, body: Body): MessageResult {
    const oldest = Number(body.oldest ?? 0) * 1000;
    const thread = method === 'conversations.replies' ? String(body.ts) : undefined;
    const found = this.in(String(body.channel), thread)
      .filter((m) => (thread !== undefined || !m.thread_ts || m.thread_ts === m.ts) && m.postedAt >= oldest)
      .reverse()
      .slice(0, Number(body.limit ?? 100));
    const withMetadata = body.include_all_metadata === true || body.include_all_metadata === 'true';
    const messages = found.map(({ ts, text, thread_ts, metadata, author }) => ({
      type: 'message',
      ts,
      text,
      ...author,
      ...(thread_ts ? { thread_ts } : {}),
      ...(withMetadata && metadata ? { metadata } : {}),
    }));
    return { ok: true, body: { messages, has_more: false } };
  }

  /** chat.* methods on messages; undefined for other methods. */
  handle(method: string, body: Body, nextTs: () => string, author: Author): MessageResult | undefined {
    const channel = String(body.channel);
    const msg = body.ts ? this.get(String(body.ts)) : undefined;
    const found = msg && msg.channel === channel ? msg : undefined;
    switch (method) {
      case 'conversations.history':
      case 'conversations.replies':
        return this.read(method, body);
      case 'chat.startStream': {
        if (!body.thread_ts) return { ok: false, error: 'invalid_arguments' };
        if (!channel.startsWith('D') && !(body.recipient_team_id && body.recipient_user_id))
          return { ok: false, error: 'missing_recipient_user_id' };
        const ts = nextTs();
        const text = streamText(body);
        this.all.push({
          ts,
          channel,
          thread_ts: String(body.thread_ts),
          text,
          versions: [text],
          streaming: true,
          streamed: true,
          deleted: false,
          postedAt: Date.now(),
          author,
        });
        return { ok: true, body: { channel, ts } };
      }
      case 'chat.appendStream':
      case 'chat.stopStream': {
        if (!found) return { ok: false, error: 'message_not_found' };
        if (!found.streaming) return { ok: false, error: 'message_not_in_streaming_state' };
        const more = streamText(body);
        if (more) this.show(found, found.text + more);
        if (method === 'chat.stopStream') found.streaming = false;
        return { ok: true, body: { channel, ts: found.ts } };
      }
      case 'chat.update': {
        if (!found) return { ok: false, error: 'message_not_found' };
        if (found.streaming) return { ok: false, error: 'streaming_state_conflict' };
        this.show(found, String(body.text ?? ''));
        const metadata = metadataOf(body);
        if (metadata) found.metadata = metadata;
        return { ok: true, body: { channel, ts: found.ts, text: found.text } };
      }
      case 'chat.delete': {
        if (!found) return { ok: false, error: 'message_not_found' };
        found.deleted = true;
        return { ok: true, body: { channel, ts: found.ts } };
      }
      default:
        return undefined;
    }
  }

  private show(m: FakeMessage, text: string): void {
    m.text = text;
    m.versions.push(text);
  }
}
