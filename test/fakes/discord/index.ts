/**
 * A loopback fake of Discord: REST under `/api/v10` and the gateway websocket on the same port (127.0.0.1,
 * port 0). Point the adapter at `fake.apiUrl`; discord.js then asks `GET /gateway/bot` for the websocket URL and
 * everything stays on this machine.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeDiscordGateway } from './gateway.js';
import { FakeDiscordRest } from './rest.js';

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
  /**
   * Send the bot's own messages (created through REST) back over the gateway as MESSAGE_CREATE, as Discord does.
   * Off by default so unit tests see only the traffic they script; the pipeline tests turn it on.
   */
  echoOwnMessages = false;

  constructor(readonly token = 'fake-bot-token.' + Math.random().toString(36).slice(2)) {
    this.rest = new FakeDiscordRest({
      token,
      gatewayUrl: () => this.wsUrl,
      sharding: () => ({ shards: this.gateway.recommendedShards, maxConcurrency: this.gateway.maxConcurrency }),
      onMessageCreated: (channelId, message) => {
        if (this.echoOwnMessages) this.gateway.dispatch('MESSAGE_CREATE', this.gateway.ownMessage(channelId, message));
      },
    });
    this.gateway = new FakeDiscordGateway({ token, url: () => this.wsUrl });
    this.server = createServer((req, res) => {
      this.rest.handle(req, res).catch(() => res.writeHead(500).end());
    });
    this.server.on('upgrade', (req, socket, head) => this.gateway.handleUpgrade(req, socket, head));
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
