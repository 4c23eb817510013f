/**
 * The REST half of the fake Discord: records every call and answers like Discord for the routes the adapter uses.
 * Honours `nonce` + `enforce_nonce` (a repeated nonce in a channel returns the message already created) and can
 * answer one request with a 429 (with `retry_after` and the rate-limit headers) or any scripted error.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BOT_USER, IDS, snowflake } from './payloads.js';

export interface RecordedRequest {
  method: string;
  /** Path after `/api/v10`. */
  path: string;
  body: any;
  authorized: boolean;
  at: number;
}

export interface ScriptedResponse {
  method?: string;
  path: RegExp;
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** How many matching requests get this answer; default 1. */
  times?: number;
}

export interface RestState {
  token: string;
  gatewayUrl(): string;
  /** What `GET /gateway/bot` recommends: shard count and identify concurrency. */
  sharding?(): { shards: number; maxConcurrency: number };
  /** The bot user this token belongs to; default BOT_USER. */
  bot?: Record<string, unknown>;
  /** Called for every message actually created in a channel (not for nonce repeats). */
  onMessageCreated?(channelId: string, message: Record<string, unknown>): void;
}

export class FakeDiscordRest {
  readonly requests: RecordedRequest[] = [];
  /** Messages actually created, per channel, in order. */
  readonly messages: { channelId: string; message: any; body: any; edits?: string[]; deleted?: boolean }[] = [];
  readonly commandPuts: { path: string; body: any }[] = [];
  private readonly nonces = new Map<string, any>();
  private readonly scripted: ScriptedResponse[] = [];
  /** Persistent per-channel failures: { status, code, message }. */
  readonly channelErrors = new Map<string, { status: number; code: number; message: string }>();

  constructor(private readonly state: RestState) {}

  script(r: ScriptedResponse): void {
    this.scripted.push({ times: 1, ...r });
  }

  /** Answer the next matching request with a 429 the way Discord does (body and headers). */
  rateLimitOnce(path: RegExp, retryAfterSeconds: number, method = 'POST'): void {
    this.script({
      method,
      path,
      status: 429,
      body: { message: 'You are being rate limited.', retry_after: retryAfterSeconds, global: false },
      headers: {
        'retry-after': String(retryAfterSeconds),
        'x-ratelimit-limit': '5',
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset-after': String(retryAfterSeconds),
        'x-ratelimit-bucket': 'fakebucket',
        'x-ratelimit-scope': 'user',
      },
    });
  }

  /**
   * What users see in a channel: the messages created there, in order (nonce repeats not counted), as last edited;
   * deleted ones are gone.
   */
  contents(channelId: string): string[] {
    return this.messages.filter((m) => m.channelId === channelId && !m.deleted).map((m) => String(m.message.content));
  }

  /** Every text a message showed, from its creation through its edits (live previews). */
  versions(messageId: string): string[] {
    const m = this.messages.find((x) => x.message.id === messageId);
    return m ? [String(m.body?.content ?? ''), ...(m.edits ?? [])] : [];
  }

  calls(method: string, path: RegExp): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && path.test(r.path));
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const m = /^\/api\/v\d+(\/.*)$/.exec(url.pathname);
    if (!m) return send(res, 404, { message: '404: Not Found', code: 0 });
    const path = decodeURIComponent(m[1]!);
    const method = req.method ?? 'GET';
    const raw = await readBody(req);
    let body: any;
    try {
      body = raw.length ? JSON.parse(raw) : undefined;
    } catch {
      body = raw;
    }
    const authorized = req.headers.authorization === `Bot ${this.state.token}`;
    this.requests.push({ method, path, body, authorized, at: Date.now() });

    const scripted = this.scripted.find((s) => (!s.method || s.method === method) && s.path.test(path));
    if (scripted) {
      if (--scripted.times! <= 0) this.scripted.splice(this.scripted.indexOf(scripted), 1);
      return send(res, scripted.status, scripted.body ?? {}, scripted.headers);
    }

    const webhook = /^\/webhooks\/(\d+)\/([^/]+)(\/messages\/@original)?$/.exec(path);
    if (webhook) {
      if (method === 'DELETE') return send(res, 204);
      return send(res, 200, this.message(webhook[1]!, body));
    }
    if (!authorized) return send(res, 401, { message: '401: Unauthorized', code: 0 });

    if (method === 'GET' && path === '/gateway/bot') {
      const { shards, maxConcurrency } = this.state.sharding?.() ?? { shards: 1, maxConcurrency: 1 };
      return send(res, 200, {
        url: this.state.gatewayUrl(),
        shards,
        session_start_limit: { total: 1000, remaining: 999, reset_after: 0, max_concurrency: maxConcurrency },
      });
    }
    if (method === 'GET' && path === '/gateway') return send(res, 200, { url: this.state.gatewayUrl() });
    if (method === 'GET' && path === '/users/@me') return send(res, 200, this.state.bot ?? BOT_USER);

    const channel = /^\/channels\/(\d+)\/(messages|typing)$/.exec(path);
    if (channel && method === 'POST') {
      const channelId = channel[1]!;
      const err = this.channelErrors.get(channelId);
      if (err) return send(res, err.status, { message: err.message, code: err.code });
      if (channel[2] === 'typing') return send(res, 204);
      if (body?.enforce_nonce && body.nonce !== undefined) {
        const seen = this.nonces.get(`${channelId}:${body.nonce}`);
        if (seen) return send(res, 200, seen);
      }
      const message = this.message(channelId, body);
      if (body?.enforce_nonce && body.nonce !== undefined) this.nonces.set(`${channelId}:${body.nonce}`, message);
      this.messages.push({ channelId, message, body });
      send(res, 200, message);
      this.state.onMessageCreated?.(channelId, message);
      return;
    }

    const one = /^\/channels\/(\d+)\/messages\/(\d+)$/.exec(path);
    if (one && (method === 'PATCH' || method === 'DELETE')) {
      const m = this.messages.find((x) => x.channelId === one[1] && x.message.id === one[2] && !x.deleted);
      if (!m) return send(res, 404, { message: 'Unknown Message', code: 10008 });
      if (method === 'DELETE') {
        m.deleted = true;
        return send(res, 204);
      }
      if (typeof body?.content === 'string') {
        m.message = { ...m.message, content: body.content, edited_timestamp: new Date().toISOString() };
        (m.edits ??= []).push(body.content);
      }
      return send(res, 200, m.message);
    }

    const commands = /^\/applications\/(\d+)(\/guilds\/(\d+))?\/commands$/.exec(path);
    if (commands && method === 'PUT') {
      this.commandPuts.push({ path, body });
      return send(
        res,
        200,
        (body as any[]).map((c) => ({
          ...c,
          id: snowflake(),
          application_id: commands[1],
          ...(commands[3] ? { guild_id: commands[3] } : {}),
          version: '1',
        })),
      );
    }
    return send(res, 404, { message: 'Unknown route (fake)', code: 0 });
  }

  private message(channelId: string, body: any) {
    return {
      id: snowflake(),
      channel_id: channelId,
      type: body?.message_reference ? 19 : 0,
      content: body?.content ?? '',
      author: this.state.bot ?? { ...BOT_USER, id: IDS.bot },
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      tts: false,
      mention_everyone: false,
      mentions: [],
      mention_roles: [],
      attachments: [],
      embeds: [],
      pinned: false,
      flags: body?.flags ?? 0,
      ...(body?.nonce !== undefined ? { nonce: body.nonce } : {}),
      ...(body?.message_reference ? { message_reference: body.message_reference } : {}),
    };
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  if (status === 204 || body === undefined) {
    res.writeHead(status, headers).end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}
