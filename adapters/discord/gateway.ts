/**
 * The gateway connection and its supervision. discord.js resumes ordinary drops by itself (500 ms later, forever);
 * this class adds what it lacks for a long-running service: a READY deadline for login, backoff with jitter when
 * reconnects keep failing, and a long back-off (not an exit) on the close codes a retry cannot fix (bad token,
 * disallowed intents), with a log line that says what to change. Nothing here throws into the process: every
 * client event, login rejection and handler error ends up in a log line and a `health()` state.
 *
 * Each attempt uses a fresh `Client` (a destroyed one cannot log in again); a generation counter makes late events
 * from an old client harmless.
 */
import { GatewayIntentBits } from 'discord-api-types/v10';
import type { Client, ClientOptions, Message } from 'discord.js';
import type { Logger } from 'pino';
import type { ChannelHealth } from '../../src/core/adapter.js';
import { safeErr } from '../../src/observability/logger.js';
import { backoffDelay, jitter } from '../kit/backoff.js';
import type { IdentifyThrottle } from './identify.js';

/**
 * discord.js (some 300 module files) is loaded when a gateway connects, not when the adapter is built: a worker
 * only sends (REST), and most processes never hold a gateway connection.
 */
let discordJs: Promise<typeof import('discord.js')> | undefined;
const loadDiscordJs = () => (discordJs ??= import('discord.js'));

export const GATEWAY_INTENTS = [
  GatewayIntentBits.Guilds,
  GatewayIntentBits.GuildMessages,
  GatewayIntentBits.DirectMessages,
  GatewayIntentBits.MessageContent,
];

/** Close codes that end a session for good; each says what an operator has to do. */
export const FATAL_CLOSE_CODES: Record<number, string> = {
  4004: 'authentication failed (close 4004): the bot token is invalid or was reset; set a valid DISCORD_TOKEN',
  4010: 'invalid shard (close 4010)',
  4011: 'sharding required (close 4011): the bot is in too many guilds for one connection',
  4012: 'invalid API version (close 4012)',
  4013: 'invalid intents (close 4013)',
  4014:
    'disallowed intents (close 4014): enable the privileged "Message Content Intent" for this bot in the Discord ' +
    'Developer Portal (Applications > your app > Bot > Privileged Gateway Intents)',
};

/** discord.js reports fatal closes during login as plain Errors; map their messages back to the codes. */
const LOGIN_ERROR_CODES: [RegExp, number][] = [
  [/authentication failed|invalid token/i, 4004],
  [/invalid shard/i, 4010],
  [/sharding is required/i, 4011],
  [/invalid api version/i, 4012],
  [/disallowed intents/i, 4014],
  [/invalid intents/i, 4013],
];

export function closeCodeOf(err: unknown): number | undefined {
  const e = err as { code?: unknown; status?: unknown; message?: unknown };
  if (e?.code === 'TokenInvalid' || e?.status === 401) return 4004;
  const msg = typeof e?.message === 'string' ? e.message : '';
  return LOGIN_ERROR_CODES.find(([re]) => re.test(msg))?.[1];
}

export interface GatewayTuning {
  /** First retry delay after a failed attempt; doubles per failure up to `retryMaxMs`. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Delay before retrying after a fatal close (4004, 4014, ...). */
  fatalRetryMs?: number;
  /** Login must reach READY within this. */
  connectTimeoutMs?: number;
  /** A reconnect that has not resumed within this is torn down and retried with backoff. */
  stallMs?: number;
  /** This many reconnects within `stallMs` count as a failing connection too (discord.js retries every 500 ms). */
  maxQuickReconnects?: number;
  /** Extra discord.js client options (tests shorten `waitGuildTimeout`). */
  clientOptions?: Partial<ClientOptions>;
}

export interface GatewayOptions extends GatewayTuning {
  token: string;
  apiUrl?: string;
  log: Logger;
  /** Connect as this shard of `count` (discord.js's `shards`/`shardCount` options); default: one unsharded session. */
  shard?: { id: number; count: number };
  /** Asked before every identify (@discordjs/ws `buildIdentifyThrottler`), e.g. a throttle shared over replicas. */
  identifyThrottle?: IdentifyThrottle;
  /** Called for every MESSAGE_CREATE; must not reject (errors are logged if it does). */
  onMessage(message: Message, botId: string): Promise<void>;
  /** Discord closed with 4011 (sharding required): the owner reshards, this connection's retry waits long. */
  onShardingRequired?(): void;
}

export class DiscordGateway {
  private client: Client | undefined;
  private generation = 0;
  private running = false;
  private failures = 0;
  private loggedIn = false;
  private lastCloseCode: number | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private stallTimer: NodeJS.Timeout | undefined;
  private reconnects: number[] = [];
  private status: ChannelHealth = { state: 'down', detail: 'not started' };
  /** Sessions resumed since this gateway was created (over every client it made). */
  private resumeCount = 0;

  constructor(private readonly opts: GatewayOptions) {}

  health(): ChannelHealth {
    return { ...this.status };
  }

  /** Heartbeat round trip (null until the first ACK) and how often the session was resumed. */
  stats(): { latencyMs: number | null; resumes: number } {
    const ping = this.client?.ws.ping;
    return { latencyMs: typeof ping === 'number' && ping >= 0 ? ping : null, resumes: this.resumeCount };
  }

  /** Begin connecting; returns at once. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.failures = 0;
    void this.connect();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.generation++;
    clearTimeout(this.retryTimer);
    this.clearStall();
    await this.destroyClient();
    this.status = { state: 'down', detail: 'stopped' };
  }

  private set(state: ChannelHealth['state'], detail: string): void {
    this.status = { state, detail };
  }

  private async connect(): Promise<void> {
    if (!this.running) return;
    let djs: typeof import('discord.js');
    try {
      djs = await loadDiscordJs();
    } catch (err) {
      discordJs = undefined; // a broken install: said in the log and in health, retried with back-off
      return this.fail(this.generation, err);
    }
    if (!this.running) return;
    const gen = ++this.generation;
    const client = this.createClient(gen, djs);
    this.client = client;
    this.loggedIn = false;
    this.lastCloseCode = undefined;
    this.reconnects = [];
    this.set('connecting', this.failures ? `retrying (attempt ${this.failures + 1})` : 'logging in');
    const timeoutMs = this.opts.connectTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        client.login(this.opts.token),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`gateway not ready within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      if (gen === this.generation) this.loggedIn = true;
    } catch (err) {
      await this.fail(gen, err);
    } finally {
      clearTimeout(timer);
    }
  }

  private createClient(gen: number, djs: typeof import('discord.js')): Client {
    const { Client, Events, Options, Partials } = djs;
    const client = new Client({
      intents: GATEWAY_INTENTS,
      partials: [Partials.Channel], // DM channels are not cached before their first message
      // We never read history from the cache; a few recent messages per channel are enough for discord.js to
      // recognise a replayed MESSAGE_CREATE, and keep memory flat across thousands of channels.
      makeCache: Options.cacheWithLimits({ ...Options.DefaultMakeCacheSettings, MessageManager: 25 }),
      ...(this.opts.apiUrl ? { rest: { api: this.opts.apiUrl } } : {}),
      ...(this.opts.shard ? { shards: [this.opts.shard.id], shardCount: this.opts.shard.count } : {}),
      ...this.opts.clientOptions,
    });
    const throttle = this.opts.identifyThrottle;
    if (throttle) client.options.ws = { ...client.options.ws, buildIdentifyThrottler: () => throttle };
    const log = this.opts.log;
    const current = () => gen === this.generation && this.running;

    client.on(Events.ClientReady, (c) => {
      if (!current()) return;
      this.failures = 0;
      this.clearStall();
      this.set('up', `connected as ${c.user.tag} (${c.user.id})`);
      log.info({ botId: c.user.id }, 'discord gateway ready');
    });
    client.on(Events.ShardResume, (_shard, replayed) => {
      if (!current()) return;
      this.clearStall();
      this.resumeCount++;
      this.set('up', `resumed (${replayed} events replayed)`);
      log.info({ replayed }, 'discord gateway resumed');
    });
    client.on(Events.ShardReconnecting, () => {
      if (!current()) return;
      this.set('connecting', 'reconnecting');
      this.watchReconnect(gen);
    });
    client.on(Events.ShardDisconnect, (event) => {
      if (!current()) return;
      // Only unrecoverable closes arrive here: discord.js will not reconnect this client.
      this.lastCloseCode = event.code;
      void this.fail(gen, new Error(`gateway closed with code ${event.code}`));
    });
    client.on(Events.Invalidated, () => {
      if (current()) void this.fail(gen, new Error('session invalidated'));
    });
    client.on(Events.ShardError, (err) => log.warn({ err: safeErr(err) }, 'discord gateway connection error'));
    client.on(Events.Error, (err) => log.error({ err: safeErr(err) }, 'discord client error'));
    client.on(Events.Warn, (msg) => log.warn({ msg }, 'discord client warning'));
    // discord.js >= 14.26.2 builds the partial DM channel only from the payload's `channel_type`; a MESSAGE_CREATE
    // without it (older gateway payloads, the documented sample) would be dropped in silence. For a bot, a message
    // without guild_id is a DM, so fill the field in. The raw packet is the very object discord.js handles next.
    client.on(Events.Raw, (packet: { t?: string; d?: Record<string, unknown> }) => {
      if (packet.t === 'MESSAGE_CREATE' && packet.d && !('guild_id' in packet.d) && !('channel_type' in packet.d)) {
        packet.d.channel_type = 1; // ChannelType.DM
      }
    });
    client.on(Events.MessageCreate, (message) => {
      if (!current() || !client.user) return;
      this.opts
        .onMessage(message, client.user.id)
        .catch((err) => log.error({ err: safeErr(err) }, 'discord message handler failed'));
    });
    return client;
  }

  /** discord.js retries a dropped connection every 500 ms without end; give it a window, then back off ourselves. */
  private watchReconnect(gen: number): void {
    const stallMs = this.opts.stallMs ?? 60_000;
    const now = Date.now();
    this.reconnects = this.reconnects.filter((t) => now - t < stallMs);
    this.reconnects.push(now);
    if (this.reconnects.length > (this.opts.maxQuickReconnects ?? 8)) {
      void this.fail(gen, new Error(`${this.reconnects.length} reconnects within ${stallMs} ms`));
      return;
    }
    this.stallTimer ??= setTimeout(() => {
      this.stallTimer = undefined;
      if (this.status.state !== 'up') void this.fail(gen, new Error(`gateway did not resume within ${stallMs} ms`));
    }, stallMs);
  }

  private clearStall(): void {
    clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
  }

  /** One attempt is over: tear the client down and schedule the next, with the delay the failure deserves. */
  private async fail(gen: number, err: unknown): Promise<void> {
    if (gen !== this.generation || !this.running) return;
    this.generation++; // events from the failed client are ignored from here on
    this.clearStall();
    const code = this.lastCloseCode ?? closeCodeOf(err);
    const fatal = code !== undefined ? FATAL_CLOSE_CODES[code] : undefined;
    const delay = fatal ? jitter(this.opts.fatalRetryMs ?? 10 * 60_000, 0.2) : this.backoff();
    const reason = fatal ?? (err as Error).message ?? String(err);
    this.set('down', `${reason}; retrying in ${Math.round(delay / 1000)} s`);
    const fields = { closeCode: code, retryInMs: Math.round(delay), wasReady: this.loggedIn };
    if (fatal) this.opts.log.error(fields, `discord gateway down: ${fatal}`);
    else this.opts.log.warn({ ...fields, err: safeErr(err) }, 'discord gateway connection failed');
    if (code === 4011) this.opts.onShardingRequired?.();
    await this.destroyClient();
    if (!this.running) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.connect(), delay);
  }

  /** Exponential backoff, half fixed and half random, so replicas do not retry in lockstep. */
  private backoff(): number {
    return backoffDelay(++this.failures, {
      initialMs: this.opts.retryBaseMs ?? 1000,
      maxMs: this.opts.retryMaxMs ?? 60_000,
    });
  }

  private async destroyClient(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.loggedIn = false;
    if (!client) return;
    try {
      await client.destroy();
    } catch (err) {
      this.opts.log.debug({ err: safeErr(err) }, 'discord client destroy failed');
    }
  }
}
