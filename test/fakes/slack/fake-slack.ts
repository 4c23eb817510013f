/**
 * A loopback fake of the parts of Slack the adapter talks to, for tests that run the real SDK clients:
 * - Web API:      POST /api/{method}  (form or JSON bodies, as @slack/web-api sends them)
 * - response_url: POST /response/{id} (slash-command answers)
 * - Socket Mode:  apps.connections.open hands out ws://…/socket; envelopes are pushed from the test, acks recorded.
 * Every call is recorded with its method, parsed body and Authorization header, and once answered with whether
 * Slack accepted it. Failures are scripted per method (optionally per channel) and used once: a 429 with
 * Retry-After, an `ok: false` error code, or a bare HTTP status. A 429 with `hold` stands, as Slack's do, until its
 * Retry-After has passed: calls of that method into that channel before then get 429 again. A closed channel answers
 * `channel_not_found` for good. With `echoTo`, every accepted chat.postMessage comes back to the app as a signed
 * `message` event from the bot itself, as the Events API does for a bot subscribed to message.channels / message.im.
 * `delayNext` makes Slack slow to answer one call; `holdPostAnswer` posts a message but holds Slack's answer (a
 * crash then loses it). `messages` holds what users see: posted and streamed messages (chat.startStream /
 * appendStream / stopStream, chat.update, chat.delete; with their metadata, read back through
 * conversations.history / replies; see messages.ts).
 * OAuth (oauth.ts): `GET /oauth/v2/authorize` is the page where a user approves the app for a workspace (the one
 * given to `approveNext`, registered with `addWorkspace`): it redirects to the app's redirect URL with a one-time
 * code and the state, as Slack does; `oauth.v2.access` trades the code (with the app's client id and secret) for
 * that workspace's bot token, and `auth.test` answers with the identity of whichever workspace's token calls it.
 * - Files:        GET /files-pri/{team}-{id}/{name} serves files added with `addFile` (their `url_private`) to a bot
 *   token only (Bearer xoxb-…), as files.slack.com does; every download is recorded with its Authorization.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { FakeMessages } from './messages.js';
import { FakeOAuth, type FakeOAuthApp, type FakeWorkspace } from './oauth.js';
import { envelope, postSigned } from './requests.js';

export type { FakeOAuthApp, FakeWorkspace };

export interface RecordedCall {
  method: string;
  body: Record<string, unknown>;
  auth: string | undefined;
  contentType: string | undefined;
  at: number;
  /** Set once answered: true when Slack accepted the call (HTTP 200 and `ok: true`). */
  ok?: boolean;
  /** The error code or HTTP status of a refused call. */
  error?: string;
}

export interface RecordedResponse {
  id: string;
  body: Record<string, unknown>;
  at: number;
}

export type ScriptedFailure =
  | { status: 429; retryAfter: number; hold?: boolean }
  | { error: string }
  | { status: number; body?: string };

/** Where own-message events are sent back to, signed like Slack signs them. */
export interface EchoTarget {
  url: string;
  signingSecret: string;
}

export interface RecordedEcho {
  channel: string;
  ts: string;
  status: number;
}

export interface FakeSlackOptions {
  botUserId?: string;
  botId?: string;
  teamId?: string;
}

export class FakeSlack {
  readonly calls: RecordedCall[] = [];
  readonly responses: RecordedResponse[] = [];
  readonly acks: Array<{ envelope_id: string; payload?: unknown; at: number }> = [];
  readonly echoes: RecordedEcho[] = [];
  readonly messages = new FakeMessages();
  /** Send every accepted chat.postMessage back to the app as the bot's own `message` event. */
  echoTo: EchoTarget | undefined;
  private readonly failures = new Map<string, Array<{ failure: ScriptedFailure; channel?: string }>>();
  private readonly closedChannels = new Set<string>();
  private readonly delays = new Map<string, number[]>();
  private readonly postHolds: number[] = [];
  /** `method channel` -> until when a 429 holds (ms since epoch). */
  private readonly limitedUntil = new Map<string, number>();
  private readonly pendingEchoes = new Set<Promise<void>>();
  private readonly server: Server;
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly sockets = new Set<WebSocket>();
  private seq = 0;
  private readonly files = new Map<string, { body: Buffer; mimetype: string }>();
  readonly downloads: { path: string; auth: string | undefined }[] = [];
  port = 0;
  private readonly oauth = new FakeOAuth();

  constructor(private readonly opts: FakeSlackOptions = {}) {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('upgrade', (req, socket, head) => {
      if (!req.url?.startsWith('/socket')) return socket.destroy();
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        this.sockets.add(ws);
        ws.on('close', () => this.sockets.delete(ws));
        ws.on('message', (data) => {
          const msg = JSON.parse(data.toString()) as { envelope_id: string; payload?: unknown };
          this.acks.push({ ...msg, at: Date.now() });
        });
        ws.send(JSON.stringify({ type: 'hello', num_connections: 1, debug_info: { host: 'fake' } }));
      });
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** What to give the adapter as `apiUrl` (and what SLACK_API_URL would be in a test deployment). */
  get apiUrl(): string {
    return `${this.baseUrl}/api/`;
  }

  responseUrl(id: string): string {
    return `${this.baseUrl}/response/${id}`;
  }

  /**
   * The next call of `method` (to `opts.channel` only, when given) fails this way. Queued: call several times to
   * fail several calls.
   */
  failNext(method: string, failure: ScriptedFailure, opts: { channel?: string } = {}): void {
    const q = this.failures.get(method) ?? [];
    q.push({ failure, channel: opts.channel });
    this.failures.set(method, q);
  }

  /**
   * The next chat.postMessage is posted at once but answered only after `ms`: the sender cannot know it went out
   * (a crash meanwhile loses the answer). Queued.
   */
  holdPostAnswer(ms: number): void {
    this.postHolds.push(ms);
  }

  /** The next call of `method` is answered only after `ms` (a slow Slack). Queued like failNext. */
  delayNext(method: string, ms: number): void {
    const q = this.delays.get(method) ?? [];
    q.push(ms);
    this.delays.set(method, q);
  }

  /** From now on every call naming this channel answers `channel_not_found` (deleted, or the bot was removed). */
  closeChannel(channel: string): void {
    this.closedChannels.add(channel);
  }

  callsOf(method: string, channel?: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method && (channel === undefined || c.body.channel === channel));
  }

  /** Messages Slack accepted into `channel` (optionally: into one thread), in the order they were posted. */
  posted(channel: string, thread?: string): RecordedCall[] {
    return this.callsOf('chat.postMessage', channel).filter(
      (c) => c.ok && (thread === undefined || c.body.thread_ts === thread),
    );
  }

  private takeFailure(method: string, channel: unknown): ScriptedFailure | undefined {
    const q = this.failures.get(method);
    const i = q?.findIndex((f) => f.channel === undefined || f.channel === channel) ?? -1;
    return i >= 0 ? q!.splice(i, 1)[0]!.failure : undefined;
  }

  get connectedSockets(): number {
    return this.sockets.size;
  }

  /** The app the OAuth pages know (client id and secret); unset: authorize answers 400. */
  get oauthApp(): FakeOAuthApp | undefined {
    return this.oauth.app;
  }
  set oauthApp(app: FakeOAuthApp | undefined) {
    this.oauth.app = app;
  }

  /** A workspace that can install the app, with the token it will get. */
  addWorkspace(w: FakeWorkspace): void {
    this.oauth.addWorkspace(w);
  }

  /** The workspace the next user on the authorize page approves the app for. */
  approveNext(teamId: string): void {
    this.oauth.approveNext(teamId);
  }

  /** Where users authorize the app (SLACK_AUTHORIZE_URL in a test deployment). */
  get authorizeUrl(): string {
    return `${this.baseUrl}/oauth/v2/authorize`;
  }

  /** Push a Socket Mode envelope to every connected client. */
  push(envelope: Record<string, unknown>): void {
    for (const ws of this.sockets) ws.send(JSON.stringify(envelope));
  }

  /** A file the bot may download: its `files[]` entry for a message event (`url_private` points here). */
  addFile(
    name: string,
    body: Buffer,
    mimetype: string,
  ): { id: string; name: string; mimetype: string; size: number; url_private: string } {
    const id = `F${String(++this.seq).padStart(8, '0')}`;
    const path = `/files-pri/T0-${id}/${encodeURIComponent(name)}`;
    this.files.set(path, { body, mimetype });
    return { id, name, mimetype, size: body.length, url_private: `${this.baseUrl}${path}` };
  }

  async waitFor<T>(probe: () => T | undefined | false, timeoutMs = 5_000): Promise<T> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const v = probe();
      if (v) return v;
      if (Date.now() > until) throw new Error('FakeSlack.waitFor: timed out');
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async close(): Promise<void> {
    this.echoTo = undefined;
    await Promise.allSettled([...this.pendingEchoes]);
    for (const ws of this.sockets) ws.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const contentType = req.headers['content-type'];
    const body: Record<string, unknown> = contentType?.includes('json')
      ? raw
        ? JSON.parse(raw)
        : {}
      : Object.fromEntries(new URLSearchParams(raw));
    const url = req.url ?? '/';
    if (req.method === 'GET' && url.startsWith('/files-pri/')) {
      const path = url.split('?')[0]!;
      this.downloads.push({ path, auth: req.headers.authorization });
      const file = this.files.get(path);
      if (!/^Bearer xoxb-/.test(req.headers.authorization ?? '')) return void res.writeHead(403).end();
      if (!file) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': file.mimetype, 'content-length': file.body.length }).end(file.body);
      return;
    }

    if (url.startsWith('/response/')) {
      this.responses.push({ id: url.slice('/response/'.length), body, at: Date.now() });
      return this.json(res, 200, { ok: true });
    }
    if (req.method === 'GET' && url.startsWith('/oauth/v2/authorize')) {
      const location = this.oauth.authorize(new URL(url, this.baseUrl));
      if (!location) return this.json(res, 400, { ok: false, error: 'invalid_client_id' });
      return void res.writeHead(302, { location }).end();
    }
    if (!url.startsWith('/api/')) return this.json(res, 404, { ok: false, error: 'unknown_path' });

    const method = url.slice('/api/'.length).split('?')[0]!;
    const call: RecordedCall = { method, body, auth: req.headers.authorization, contentType, at: Date.now() };
    this.calls.push(call);
    const delay = this.delays.get(method)?.shift();
    if (delay) await new Promise((r) => setTimeout(r, delay));
    const refuse = (error: string) => {
      call.ok = false;
      call.error = error;
    };

    const limitKey = `${method} ${String(body.channel)}`;
    const limitLeft = (this.limitedUntil.get(limitKey) ?? 0) - Date.now();
    const failure: ScriptedFailure | undefined =
      limitLeft > 0
        ? { status: 429, retryAfter: Math.ceil(limitLeft / 1000), hold: false }
        : (this.takeFailure(method, body.channel) ??
          (this.closedChannels.has(String(body.channel)) ? { error: 'channel_not_found' } : undefined));
    if (failure) {
      if ('error' in failure) {
        refuse(failure.error);
        return this.json(res, 200, { ok: false, error: failure.error });
      }
      refuse(String(failure.status));
      if (failure.status === 429 && 'retryAfter' in failure) {
        if (failure.hold) this.limitedUntil.set(limitKey, Date.now() + failure.retryAfter * 1000);
        res.writeHead(429, { 'retry-after': String(failure.retryAfter), 'content-type': 'application/json' });
        return void res.end(JSON.stringify({ ok: false, error: 'ratelimited' }));
      }
      res.writeHead(failure.status, { 'content-type': 'text/plain' });
      return void res.end('body' in failure ? (failure.body ?? '') : 'fake failure');
    }
    const caller = this.oauth.workspaceOf(call.auth);
    // Whose message a post or stream is: the calling workspace's bot (with OAuth installs), else this fake's bot.
    const author = caller
      ? { user: caller.botUserId, bot_id: caller.botId }
      : { user: this.opts.botUserId ?? 'UBOT0001', bot_id: this.opts.botId ?? 'BBOT0001' };
    const onMessage = this.messages.handle(method, body, () => this.nextTs(), author);
    if (onMessage && !onMessage.ok) {
      refuse(onMessage.error);
      return this.json(res, 200, { ok: false, error: onMessage.error });
    }
    call.ok = true;
    if (onMessage) return this.json(res, 200, { ok: true, ...onMessage.body });

    switch (method) {
      case 'oauth.v2.access':
        return this.json(res, 200, this.oauth.access(body));
      case 'auth.test':
        if (caller)
          return this.json(res, 200, {
            ok: true,
            url: 'https://fake.slack.com/',
            team: caller.teamName ?? caller.teamId,
            team_id: caller.teamId,
            user: 'agent',
            user_id: caller.botUserId,
            bot_id: caller.botId,
          });
        return this.json(res, 200, {
          ok: true,
          url: 'https://fake.slack.com/',
          team: 'Fake',
          team_id: this.opts.teamId ?? 'T123ABC456',
          user: 'agent',
          user_id: this.opts.botUserId ?? 'UBOT0001',
          bot_id: this.opts.botId ?? 'BBOT0001',
        });
      case 'chat.postMessage': {
        const ts = this.nextTs();
        this.messages.posted(body, ts, author);
        const hold = this.postHolds.shift();
        if (hold) await new Promise((r) => setTimeout(r, hold));
        this.json(res, 200, { ok: true, channel: body.channel, ts, message: { text: body.text, ts } });
        if (this.echoTo) this.echo(this.echoTo, body, ts);
        return;
      }
      case 'apps.connections.open':
        return this.json(res, 200, { ok: true, url: `ws://127.0.0.1:${this.port}/socket` });
      default:
        return this.json(res, 200, { ok: true });
    }
  }

  private nextTs(): string {
    return `1700000000.${String(++this.seq).padStart(6, '0')}`;
  }

  /** The `message` event Slack sends the app for the bot's own post (modern bot tokens post as the bot user). */
  private echo(target: EchoTarget, posted: Record<string, unknown>, ts: string): void {
    const channel = String(posted.channel);
    const event = {
      type: 'message',
      channel,
      channel_type: channel.startsWith('D') ? 'im' : 'channel',
      user: this.opts.botUserId ?? 'UBOT0001',
      bot_id: this.opts.botId ?? 'BBOT0001',
      text: posted.text,
      ts,
      event_ts: ts,
      ...(posted.thread_ts ? { thread_ts: posted.thread_ts } : {}),
    };
    const body = { ...envelope(event, `EvEcho${ts.replace('.', '')}`), team_id: this.opts.teamId ?? 'T123ABC456' };
    const p = postSigned(target.url, target.signingSecret, body)
      .then(
        (r) => void this.echoes.push({ channel, ts, status: r.status }),
        () => void this.echoes.push({ channel, ts, status: 0 }),
      )
      .finally(() => this.pendingEchoes.delete(p));
    this.pendingEchoes.add(p);
  }

  private json(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }
}
