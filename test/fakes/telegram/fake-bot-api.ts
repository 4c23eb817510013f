/**
 * A loopback fake of the Telegram Bot API (node:http on 127.0.0.1, port 0): `/bot<token>/<method>` with JSON
 * bodies, answering as Telegram does (HTTP status = error_code, `{ ok, result | error_code, description,
 * parameters }`). It records every call, keeps a queue of updates for long polling (offset confirms, one poller at
 * a time, 409 otherwise: update-queue.ts), parses MarkdownV2 strictly, and fails on demand (429 with
 * retry_after, 403, 400).
 * Files added with `addFile` are answered by `getFile` and served at `/file/bot<token>/<file_path>`.
 * Live answers: sendMessageDraft (private chats only; a draft is shown until the bot sends a message there),
 * editMessageText (every version kept; the same text again answers "message is not modified") and deleteMessage.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EntityParseError, parseMarkdownV2, type ParsedEntity } from './markdownv2.js';
import { type FakeError, UpdateQueue } from './update-queue.js';

export type { FakeError };

export interface FakeCall {
  method: string;
  params: Record<string, any>;
  /** Date.now() when the call arrived. */
  at: number;
}

export interface SentMessage {
  message_id: number;
  chat_id: number | string;
  /** As sent (MarkdownV2 source when parse_mode is set). */
  raw: string;
  /** What a client would show: the text after entity parsing. */
  text: string;
  entities: ParsedEntity[];
  parse_mode?: string;
  message_thread_id?: number;
  reply_to?: number;
  /** Every text the message showed (after entity parsing), the first as sent. */
  versions: string[];
  /** Inline keyboard under the message (approval buttons); an edit without one removes it, as Telegram does. */
  reply_markup?: { inline_keyboard: { text: string; callback_data?: string }[][] };
  /** How many times the message was edited (editMessageText). */
  edits?: number;
}

export interface FakeDraft {
  chat_id: number;
  draft_id: number;
  /** Every text the draft showed, in order. */
  versions: string[];
  /** Still on screen: drafts vanish once the bot sends a message into the chat. */
  shown: boolean;
}

export class FakeBotApi {
  readonly calls: FakeCall[] = [];
  readonly sent: SentMessage[] = [];
  readonly drafts: FakeDraft[] = [];
  webhookUrl = '';
  private server!: Server;
  private readonly updates = new UpdateQueue({ ok: (res, r) => this.ok(res, r), fail: (res, e) => this.fail(res, e) });
  private nextMessageId = 9000;
  private failures = new Map<string, Array<{ error: FakeError; chatId?: string }>>();
  private blocked = new Set<string>();

  constructor(
    readonly token: string,
    readonly bot: { id: number; username: string; first_name?: string } = {
      id: Number(token.split(':')[0]),
      username: 'gateway_test_bot',
    },
  ) {}

  private readonly files = new Map<string, { path: string; body: Buffer }>();
  /** File downloads (`/file/bot…/<path>`), by path, in order. */
  readonly downloads: string[] = [];

  /** A file users sent: its `file_id`, `file_unique_id` and `file_size`, as in a message's photo / voice / document. */
  addFile(body: Buffer, path: string): { file_id: string; file_unique_id: string; file_size: number } {
    const n = this.files.size + 1;
    const fileId = `AgACAgIAAxkBAAI${String(n).padStart(4, '0')}fake`;
    this.files.set(fileId, { path, body });
    return { file_id: fileId, file_unique_id: `AQAD${n}`, file_size: body.length };
  }

  /** The `apiRoot` to give the adapter. */
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.route(req, res));
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.updates.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Queue an update for getUpdates (update_id assigned when missing); returns its update_id. */
  pushUpdate(update: Record<string, unknown>): number {
    return this.updates.push(update);
  }

  /** getUpdates requests being held open right now. */
  get openPolls(): number {
    return this.updates.openPolls;
  }

  /** Updates not yet confirmed by an offset. */
  get pendingUpdates(): number[] {
    return this.updates.pending;
  }

  /** getUpdates answered 409 because another poll was open (or a webhook was set). */
  get conflicts(): number {
    return this.updates.conflicts;
  }

  /** Most getUpdates open at the same moment (must stay 1 with one poller per token). */
  get maxConcurrentPolls(): number {
    return this.updates.maxConcurrentPolls;
  }

  /**
   * The next call of `method` fails with this error (queued, one per call). With `chatId`, only a call for that
   * chat takes it, so tests sharing one fake cannot catch each other's failures.
   */
  failNext(method: string, error: FakeError, chatId?: number | string): void {
    this.failures.set(method, [
      ...(this.failures.get(method) ?? []),
      { error, ...(chatId !== undefined ? { chatId: String(chatId) } : {}) },
    ]);
  }

  /** Calls of `method` for one chat, in order. */
  callsTo(method: string, chatId: number | string): FakeCall[] {
    return this.calls.filter((c) => c.method === method && String(c.params.chat_id) === String(chatId));
  }

  /** Messages the bot sent to one chat, in order. */
  sentTo(chatId: number | string): SentMessage[] {
    return this.sent.filter((m) => String(m.chat_id) === String(chatId));
  }

  /** Every send to this chat answers 403 "bot was blocked by the user". */
  block(chatId: number | string): void {
    this.blocked.add(String(chatId));
  }

  callsOf(method: string): FakeCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  private readonly others = new Map<string, FakeBotApi>();

  /**
   * Serve another bot's calls too (several bots behind one Bot API root, as Telegram's is one for all bots): the
   * other fake keeps its own calls, messages and updates; it needs no server of its own.
   */
  serveAlso(other: FakeBotApi): FakeBotApi {
    this.others.set(other.token, other);
    other.url = this.url;
    return other;
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const file = /^\/file\/bot([^/]+)\/(.+)$/.exec(req.url?.split('?')[0] ?? '');
    if (req.method === 'GET' && file) {
      const found = [...this.files.values()].find((f) => f.path === file[2]);
      this.downloads.push(file[2]!);
      if (file[1] !== this.token || !found) return void res.writeHead(404).end();
      return void res.writeHead(200, { 'content-length': found.body.length }).end(found.body);
    }
    const m = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(req.url?.split('?')[0] ?? '');
    const other = m && this.others.get(m[1]!);
    if (other) return other.route(req, res);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (!m || m[1] !== this.token)
      return this.fail(res, { error_code: m ? 401 : 404, description: m ? 'Unauthorized' : 'Not Found' });
    const method = m[2]!;
    let params: Record<string, any> = {};
    const body = Buffer.concat(chunks).toString('utf8');
    if (body) {
      try {
        params = JSON.parse(body);
      } catch {
        return this.fail(res, { error_code: 400, description: 'Bad Request: invalid JSON' });
      }
    }
    this.calls.push({ method, params, at: Date.now() });
    const queue = this.failures.get(method) ?? [];
    const k = queue.findIndex((f) => f.chatId === undefined || f.chatId === String(params.chat_id));
    if (k >= 0) return this.fail(res, queue.splice(k, 1)[0]!.error);
    switch (method) {
      case 'getFile': {
        const f = this.files.get(String(params.file_id));
        if (!f) return this.fail(res, { error_code: 400, description: 'Bad Request: invalid file_id' });
        return this.ok(res, {
          file_id: params.file_id,
          file_unique_id: 'AQADx',
          file_size: f.body.length,
          file_path: f.path,
        });
      }
      case 'getMe':
        return this.ok(res, { is_bot: true, first_name: 'Gateway', can_join_groups: true, ...this.bot });
      case 'getUpdates':
        return this.updates.getUpdates(res, params, this.webhookUrl !== '');
      case 'sendMessage':
        return this.sendMessage(res, params);
      case 'sendMessageDraft':
        return this.sendMessageDraft(res, params);
      case 'editMessageText':
        return this.editMessageText(res, params);
      case 'deleteMessage': {
        const i = this.sent.findIndex(
          (m) => String(m.chat_id) === String(params.chat_id) && m.message_id === params.message_id,
        );
        if (i < 0) return this.fail(res, { error_code: 400, description: 'Bad Request: message to delete not found' });
        this.sent.splice(i, 1);
        return this.ok(res, true);
      }
      case 'sendChatAction':
        if (this.blocked.has(String(params.chat_id)))
          return this.fail(res, { error_code: 403, description: 'Forbidden: bot was blocked by the user' });
        return this.ok(res, true);
      case 'answerCallbackQuery':
      case 'setMyCommands':
        return this.ok(res, true);
      case 'setWebhook':
        this.webhookUrl = String(params.url ?? '');
        return this.ok(res, true);
      case 'deleteWebhook':
        this.webhookUrl = '';
        return this.ok(res, true);
      default:
        return this.fail(res, { error_code: 404, description: 'Not Found: method not found' });
    }
  }

  private ok(res: ServerResponse, result: unknown): void {
    if (res.writableEnded || res.destroyed) return;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, result }));
  }

  private fail(res: ServerResponse, e: FakeError): void {
    if (res.writableEnded || res.destroyed) return;
    res.writeHead(e.error_code, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: false, ...e }));
  }

  /** The text as a client shows it, or the error Telegram answers for it. */
  private parseText(
    p: Record<string, any>,
    allowEmpty = false,
  ): { text: string; entities: ParsedEntity[] } | FakeError {
    const raw = String(p.text ?? '');
    let parsed: { text: string; entities: ParsedEntity[] } = { text: raw, entities: [] };
    if (p.parse_mode === 'MarkdownV2') {
      try {
        parsed = parseMarkdownV2(raw);
      } catch (err) {
        if (!(err instanceof EntityParseError)) throw err;
        return { error_code: 400, description: `Bad Request: can't parse entities: ${err.message}` };
      }
    } else if (p.parse_mode !== undefined) {
      return { error_code: 400, description: `Bad Request: unsupported parse_mode ${p.parse_mode}` };
    }
    if (!allowEmpty && !parsed.text.trim())
      return { error_code: 400, description: 'Bad Request: message text is empty' };
    if (parsed.text.length > 4096) return { error_code: 400, description: 'Bad Request: message is too long' };
    return parsed;
  }

  private sendMessageDraft(res: ServerResponse, p: Record<string, any>): void {
    if (typeof p.chat_id !== 'number' || p.chat_id <= 0)
      return this.fail(res, { error_code: 400, description: 'Bad Request: drafts can be sent only to private chats' });
    if (!p.draft_id) return this.fail(res, { error_code: 400, description: 'Bad Request: draft_id must be non-zero' });
    const parsed = this.parseText(p, true);
    if ('error_code' in parsed) return this.fail(res, parsed);
    let d = this.drafts.find((x) => x.chat_id === p.chat_id && x.draft_id === p.draft_id);
    if (!d) {
      d = { chat_id: p.chat_id, draft_id: p.draft_id, versions: [], shown: true };
      this.drafts.push(d);
    }
    d.versions.push(parsed.text);
    d.shown = true;
    this.ok(res, true);
  }

  private editMessageText(res: ServerResponse, p: Record<string, any>): void {
    const msg = this.sent.find((m) => String(m.chat_id) === String(p.chat_id) && m.message_id === p.message_id);
    if (!msg) return this.fail(res, { error_code: 400, description: 'Bad Request: message to edit not found' });
    const parsed = this.parseText(p);
    if ('error_code' in parsed) return this.fail(res, parsed);
    const sameMarkup = JSON.stringify(p.reply_markup ?? null) === JSON.stringify(msg.reply_markup ?? null);
    if (parsed.text === msg.text && String(p.text) === msg.raw && sameMarkup)
      return this.fail(res, {
        error_code: 400,
        description:
          'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message',
      });
    Object.assign(msg, {
      raw: String(p.text),
      text: parsed.text,
      entities: parsed.entities,
      edits: (msg.edits ?? 0) + 1,
    });
    if (p.reply_markup) msg.reply_markup = p.reply_markup;
    else delete msg.reply_markup;
    msg.versions.push(parsed.text);
    this.ok(res, { message_id: msg.message_id, chat: { id: Number(p.chat_id) }, text: parsed.text });
  }

  /** Drafts shown in one private chat right now. */
  draftsIn(chatId: number): FakeDraft[] {
    return this.drafts.filter((d) => d.chat_id === chatId && d.shown);
  }

  private sendMessage(res: ServerResponse, p: Record<string, any>): void {
    if (p.chat_id === undefined)
      return this.fail(res, { error_code: 400, description: 'Bad Request: chat_id is empty' });
    if (this.blocked.has(String(p.chat_id)))
      return this.fail(res, { error_code: 403, description: 'Forbidden: bot was blocked by the user' });
    const raw = String(p.text ?? '');
    const parsed = this.parseText(p);
    if ('error_code' in parsed) return this.fail(res, parsed);
    for (const d of this.drafts) if (String(d.chat_id) === String(p.chat_id)) d.shown = false;
    const msg: SentMessage = {
      message_id: this.nextMessageId++,
      chat_id: p.chat_id,
      raw,
      text: parsed.text,
      entities: parsed.entities,
      versions: [parsed.text],
      ...(p.parse_mode ? { parse_mode: p.parse_mode } : {}),
      ...(p.message_thread_id !== undefined ? { message_thread_id: p.message_thread_id } : {}),
      ...(p.reply_parameters?.message_id !== undefined ? { reply_to: p.reply_parameters.message_id } : {}),
      ...(p.reply_markup ? { reply_markup: p.reply_markup } : {}),
    };
    this.sent.push(msg);
    const chatType = String(p.chat_id).startsWith('-') ? 'supergroup' : 'private';
    this.ok(res, {
      message_id: msg.message_id,
      date: Math.floor(Date.now() / 1000),
      chat: { id: Number(p.chat_id), type: chatType },
      from: { id: this.bot.id, is_bot: true, first_name: 'Gateway', username: this.bot.username },
      text: parsed.text,
      ...(msg.message_thread_id !== undefined
        ? { message_thread_id: msg.message_thread_id, is_topic_message: true }
        : {}),
    });
  }
}

export async function startFakeBotApi(
  token = '123456789:TEST-token_fake',
  bot?: { id: number; username: string },
): Promise<FakeBotApi> {
  return new FakeBotApi(token, bot).start();
}
