/**
 * The Discord channel adapter. Ingress: slash commands arrive as signed HTTP interactions; messages arrive over
 * the gateway websocket: one connection per shard, each held by exactly one process (Redis leases spread the shards
 * over the replicas; stand-bys take over when a holder dies; see shards.ts). Egress: REST sends with `nonce` + `enforce_nonce`, usable from any stateless worker — sending
 * needs neither the gateway nor the lease.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import type { ChannelAdapter, ChannelHealth, IngressSink } from '../../src/core/adapter.js';
import { ThreadTracker } from '../kit/thread-tracker.js';
import { platformLeaseKey, threadKey } from '../../src/queue/keys.js';
import type { ConversationRef, RenderedPart, SendReceipt } from '../../src/core/types.js';
import { registerDiscordCommands } from './commands.js';
import { renderDiscord } from './format.js';
import type { GatewayTuning } from './gateway.js';
import { DiscordConnections } from './shards.js';
import { MessageIngest } from './ingress.js';
import { interactionHandler } from './webhook.js';
import { DISCORD_MAX_MESSAGE_CHARS, DISCORD_MIN_SEND_INTERVAL_MS } from './limits.js';
import { createRest, fetchDiscordFile } from './client.js';
import { discordMentions } from './parse.js';
import { replacePrompt, sendPart, startTyping } from './send.js';
import { DISCORD_PREVIEW_INTERVAL_MS, DISCORD_PREVIEW_MIN_CHARS, discordPreview } from './stream.js';
import { publicKeyFromHex } from './verify.js';

export interface DiscordAdapterOptions {
  /** Bot token (without the "Bot " prefix). */
  token: string;
  applicationId: string;
  /** Application public key (64 hex characters), for interaction signatures. */
  publicKey: string;
  /** REST base without version; default https://discord.com/api. The gateway URL is then asked from this API. */
  apiUrl?: string;
  interactionsPath?: string;
  /** Hold a gateway connection (messages, mentions, DMs). false: interactions and sends only. Default true. */
  gateway?: boolean;
  /** In guild channels answer only when mentioned (or in a thread the bot takes part in). Default true. */
  requireMention?: boolean;
  /** Answer messages written by other bots and webhooks. Default false; the bot's own are always ignored. */
  allowBots?: boolean;
  /** Needed when `gateway` is on: the lease and the thread tracker live there. */
  redis?: Redis;
  keyPrefix?: string;
  leaseTtlMs?: number;
  /** Shards to run (overrides Discord's recommendation from `GET /gateway/bot`). */
  shardCount?: number;
  /** Identify window per max_concurrency bucket; Discord's is 5 s (tests shorten it). */
  identifyWindowMs?: number;
  /** Publish slash commands to this guild only (instant updates while developing); omit for global commands. */
  commandsGuildId?: string;
  /** Slash commands whose answers are public (deferred without the ephemeral flag). */
  publicCommands?: string[];
  /** Let a reply ping the author of the message it replies to. Default false. */
  pingReplies?: boolean;
  /** A send waits out a rate limit up to this long, else throws RateLimitedError. Default 10 s. */
  maxRateLimitWaitMs?: number;
  log?: Logger;
  /** Connection tuning (tests use short values). */
  gatewayTuning?: GatewayTuning;
  /**
   * An added bot's application id (adapters/kit/fleet.ts): its conversations' tenants and its events' ids carry it
   * (`<app>.<guild>`), so two bots in one guild keep their own sessions, memory and dedupe.
   */
  scope?: string;
}

/** What every Discord bot shares (a fleet of added bots answers with it when there is no environment's bot). */
export const discordShape = {
  capabilities: { ephemeral: true },
  mentions: discordMentions,
  limits: { maxMessageChars: DISCORD_MAX_MESSAGE_CHARS, minSendIntervalMs: DISCORD_MIN_SEND_INTERVAL_MS },
  render: (markdown: string) => renderDiscord(markdown),
  preview: { minIntervalMs: DISCORD_PREVIEW_INTERVAL_MS, minChars: DISCORD_PREVIEW_MIN_CHARS },
};

/** The added bot a conversation tenant belongs to (`<app>.<guild>`); undefined: the environment's bot. */
export function discordScopeOf(tenant: string): string | undefined {
  const dot = tenant.indexOf('.');
  return dot > 0 ? tenant.slice(0, dot) : undefined;
}

/** What an added bot hands the pipeline carries its scope in every tenant and id; sends need none of it. */
function scopedSink(sink: IngressSink, scope: string | undefined): IngressSink {
  if (!scope) return sink;
  const tenant = (t: string) => `${scope}.${t}`;
  return {
    log: sink.log,
    claim: (id) => sink.claim(`${scope}.${id}`),
    submit: (e) =>
      sink.submit({
        ...e,
        id: e.id.replace(/^discord:/, `discord:${scope}.`),
        tenant: tenant(e.tenant),
        conversation: { ...e.conversation, tenant: tenant(e.conversation.tenant) },
      }),
    command: (c) =>
      sink.command({ ...c, tenant: tenant(c.tenant), conversation: { ...c.conversation, tenant: tenant(c.tenant) } }),
  };
}

/** Lease key from a hash of the token: the token itself never appears in Redis or in logs. */
export function discordLeaseKey(keyPrefix: string, token: string): string {
  return platformLeaseKey(keyPrefix, 'discord', token);
}

export interface DiscordAdapter extends ChannelAdapter {
  readonly leaseKey: string;
  /** The interactions route handler (registerRoutes mounts it at `interactionsPath`; a fleet under its own path). */
  webhook(sink: IngressSink): (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
}

export function createDiscordAdapter(options: DiscordAdapterOptions): DiscordAdapter {
  if (!options.token) throw new Error('discord adapter: token is required (DISCORD_TOKEN)');
  if (!options.applicationId) throw new Error('discord adapter: applicationId is required (DISCORD_APPLICATION_ID)');
  publicKeyFromHex(options.publicKey); // fail at startup, not on the first interaction
  const useGateway = options.gateway ?? true;
  if (useGateway && !options.redis) throw new Error('discord adapter: redis is required when the gateway is enabled');

  const keyPrefix = options.keyPrefix ?? 'chatgw';
  const leaseKey = discordLeaseKey(keyPrefix, options.token);
  const rest = createRest({
    token: options.token,
    ...(options.apiUrl ? { apiUrl: options.apiUrl } : {}),
    ...(options.maxRateLimitWaitMs !== undefined ? { maxRateLimitWaitMs: options.maxRateLimitWaitMs } : {}),
  });
  const publicCommands = new Set((options.publicCommands ?? []).map((c) => c.toLowerCase()));
  let log: Logger = (options.log ?? pino({ level: 'silent' })).child({ adapter: 'discord' });
  let connections: DiscordConnections | undefined;
  let ingest: MessageIngest | undefined;
  let started = false;

  const render = (markdown: string) => renderDiscord(markdown);
  const interactions = (sink: IngressSink) =>
    interactionHandler(scopedSink(sink, options.scope), {
      publicKey: options.publicKey,
      applicationId: options.applicationId,
      rest,
      render,
      publicCommands,
      log: (options.log ?? sink.log).child({ adapter: 'discord' }),
    });

  return {
    platform: 'discord',
    leaseKey,
    capabilities: { ephemeral: true },
    mentions: discordMentions,
    fetchAttachment(a, { signal }) {
      if (!a.url) return Promise.reject(new Error('discord attachment without url'));
      return fetchDiscordFile(a.url, options.apiUrl, signal);
    },
    limits: { maxMessageChars: DISCORD_MAX_MESSAGE_CHARS, minSendIntervalMs: DISCORD_MIN_SEND_INTERVAL_MS },

    registerRoutes(http: FastifyInstance, sink: IngressSink): void {
      http.post(options.interactionsPath ?? '/discord/interactions', interactions(sink));
    },

    webhook: (sink: IngressSink) => interactions(sink),

    async start(sink: IngressSink): Promise<void> {
      if (started) return;
      started = true;
      if (!options.log) log = sink.log.child({ adapter: 'discord' });
      if (!useGateway) return;
      const redis = options.redis!;
      const scope = options.scope;
      ingest = new MessageIngest(
        scopedSink(sink, scope),
        {
          requireMention: options.requireMention ?? true,
          allowBots: options.allowBots ?? false,
          tracker: new ThreadTracker(redis, (t) => threadKey(keyPrefix, scope ? `${scope}.${t}` : t, 'discord')),
        },
        log,
      );
      const handler = ingest;
      connections = new DiscordConnections({
        redis,
        rest,
        keyPrefix,
        token: options.token,
        leaseKey,
        ...(options.leaseTtlMs ? { leaseTtlMs: options.leaseTtlMs } : {}),
        ...(options.shardCount ? { shardCount: options.shardCount } : {}),
        ...(options.identifyWindowMs ? { identifyWindowMs: options.identifyWindowMs } : {}),
        gateway: {
          token: options.token,
          ...(options.apiUrl ? { apiUrl: options.apiUrl } : {}),
          ...options.gatewayTuning,
        },
        onMessage: (message, botId) => handler.handle(message, botId),
        log,
      });
      connections.start();
    },

    async stop(): Promise<void> {
      if (!started) return;
      started = false;
      await connections?.stop(); // closes the connections, then releases the leases so stand-bys take over at once
      await ingest?.drain();
      connections = undefined;
    },

    render,

    send(ref: ConversationRef, part: RenderedPart): Promise<SendReceipt> {
      return sendPart(rest, ref, part, { pingReplies: options.pingReplies ?? false });
    },

    async startTyping(ref: ConversationRef): Promise<() => Promise<void>> {
      return startTyping(rest, ref, log);
    },

    preview: discordPreview(rest),
    approvals: {
      replace: (ref, messageId, text, approvalId) => replacePrompt(rest, ref, messageId, text, approvalId),
    },

    health(): ChannelHealth {
      if (!useGateway) return { state: 'up', detail: 'gateway disabled: interactions and sends only' };
      if (!started || !connections) return { state: 'down', detail: 'not started' };
      return connections.health();
    },

    async publishCommands(commands) {
      const registered = await registerDiscordCommands(
        {
          token: options.token,
          applicationId: options.applicationId,
          guildId: options.commandsGuildId,
          apiUrl: options.apiUrl,
        },
        commands.map((c) => ({
          name: c.name,
          description: c.description.slice(0, 100),
          options: [{ type: 3, name: 'args', description: (c.usage ?? 'arguments').slice(0, 100), required: false }],
        })),
      );
      return registered.length;
    },
  };
}

export { registerDiscordCommands, type DiscordCommandSpec } from './commands.js';
export { verifyDiscordSignature } from './verify.js';
