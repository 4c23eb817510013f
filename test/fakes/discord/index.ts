/**
 * A loopback fake of Discord: REST under `/api/v10` and the gateway websocket on the same port (127.0.0.1,
 * port 0). Point the adapter at `fake.apiUrl`; discord.js then asks `GET /gateway/bot` for the websocket URL and
 * everything stays on this machine. Attachments added with `addAttachment` are served at `/attachments/…` (the
 * CDN's path shape), and each download is recorded.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeDiscordGateway } from './gateway.js';
import { FakeDiscordRest } from './rest.js';
import { IDS } from './payloads.js';

export {
  IDS,
  BOT_USER,
  USER,
  OTHER_BOT,
  messageCreate,
  mentioning,
  loadFixture,
  snowflake,
  channelCreate,
  threadCreate,
  person,
  shardGuild,
  shardOf,
} from './payloads.js';
export { createSigner, type TestSigner } from './sign.js';

export class FakeDiscord {
  readonly rest: FakeDiscordRest;
  readonly gateway: FakeDiscordGateway;
  private readonly server: Server;
  port = 0;
  private readonly files = new Map<string, { body: Buffer; contentType: string }>();
  readonly downloads: string[] = [];
  private fileSeq = 0;
  /**
   * Send the bot's own messages (created through REST) back over the gateway as MESSAGE_CREATE, as Discord does.
   * Off by default so unit tests see only the traffic they script; the pipeline tests turn it on.
   */
  echoOwnMessages = false;

  /** Other applications' fakes whose REST calls arrive here (told apart by their token): see `serveAlso`. */
  private readonly others: FakeDiscord[] = [];

  constructor(
    readonly token = 'fake-bot-token.' + Math.random().toString(36).slice(2),
    /** Another application's bot: its user (id = its application id) instead of BOT_USER. */
    readonly bot?: { id: string; username: string; discriminator: string; global_name: string | null; avatar: null },
  ) {
    this.rest = new FakeDiscordRest({
      token,
      ...(bot ? { bot } : {}),
      gatewayUrl: () => this.wsUrl,
      sharding: () => ({ shards: this.gateway.recommendedShards, maxConcurrency: this.gateway.maxConcurrency }),
      onMessageCreated: (channelId, message) => {
        if (this.echoOwnMessages) this.gateway.dispatch('MESSAGE_CREATE', this.gateway.ownMessage(channelId, message));
      },
    });
    this.gateway = new FakeDiscordGateway({
      token,
      url: () => this.wsUrl,
      ...(bot ? { bot, applicationId: bot.id } : {}),
    });
    this.server = createServer((req, res) => {
      if (req.method === 'GET' && req.url?.startsWith('/attachments/')) {
        const path = req.url.split('?')[0]!;
        this.downloads.push(path);
        const f = this.files.get(path);
        if (!f) return void res.writeHead(404).end();
        return void res.writeHead(200, { 'content-type': f.contentType, 'content-length': f.body.length }).end(f.body);
      }
      const other = this.others.find((o) => req.headers.authorization === `Bot ${o.token}`);
      (other ?? this).rest.handle(req, res).catch(() => res.writeHead(500).end());
    });
    this.server.on('upgrade', (req, socket, head) => this.gateway.handleUpgrade(req, socket, head));
  }

  /** A message attachment object as the gateway sends it, its (signed-looking) CDN url served here. */
  addAttachment(filename: string, body: Buffer, contentType: string, extra: Record<string, unknown> = {}) {
    const id = `13000000000000${String(++this.fileSeq).padStart(5, '0')}`;
    const path = `/attachments/${IDS.channel}/${id}/${encodeURIComponent(filename)}`;
    this.files.set(path, { body, contentType });
    const url = `http://127.0.0.1:${this.port}${path}?ex=6790abcd&is=678f5a4d&hm=0f1e2d3c4b5a&`;
    return { id, filename, size: body.length, url, proxy_url: url, content_type: contentType, ...extra };
  }

  /**
   * Serve another application's REST calls too (one API URL for every bot, as on Discord); its `GET /gateway/bot`
   * names its own websocket, so its gateway sessions stay its own. `other` must be started.
   */
  serveAlso(other: FakeDiscord): FakeDiscord {
    this.others.push(other);
    return other;
  }

  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api`;
  }

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    this.gateway.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
