/**
 * The channels module: which channels this deployment has, from configuration (the local channel when enabled, a
 * platform when its token is set), contributed as the module's adapters like any other module's. Every process
 * builds them (workers render and send); only gateway processes serve their routes, start their connections and
 * publish their commands. Gateways also run the delivery waiters the local channel's `wait: true` uses.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { createDiscordAdapter, discordScopeOf, discordShape } from '../../adapters/discord/index.js';
import { createLocalAdapter } from '../../adapters/local/index.js';
import { createSlackAdapter, type SlackOAuthOptions, type SlackWorkspaces } from '../../adapters/slack/index.js';
import { createTelegramAdapter, telegramShape } from '../../adapters/telegram/index.js';
import type { ChannelAdapter } from '../core/adapter.js';
import type { Config } from '../config/env.js';
import { defineModule } from '../modules/contract.js';
import { DeliveryWaiters } from '../outbound/notifications.js';
import { createSlackInstallations } from '../installs/slack-installations.js';
import { botTokenCipher, slackTokenCipher } from '../installs/keys.js';
import { createBotStore, secretsVersion, type BotStore } from '../installs/bots.js';
import { registerBotAdminRoutes, telegramBotId } from '../installs/admin-routes.js';
import { createBotFleet, type BotFleet } from '../../adapters/kit/fleet.js';

export const channelsModule = defineModule({
  name: 'channels',
  create(deps) {
    const { config, log, redis, keys: k } = deps;
    const waiters = deps.role.gateway ? new DeliveryWaiters(k.delivered, log) : undefined;
    const adapters: ChannelAdapter[] = [];
    if (config.localChannelEnabled) {
      adapters.push(
        createLocalAdapter({
          redis,
          streamKey: k.localOut,
          waiters,
          apiKey: config.LOCAL_API_KEY,
          waitTimeoutMs: config.LOCAL_WAIT_TIMEOUT_MS,
          routes: deps.role.gateway,
          notifyChannel: k.localSent,
          connect: deps.connect,
          pollMax: config.LOCAL_POLL_MAX,
          log,
          liveChannel: k.live,
          maxAttachmentBytes: config.ATTACHMENT_MAX_BYTES,
        }),
      );
    }
    const slackWorkspaces = config.slackOAuth
      ? createSlackInstallations(deps.database.sql, slackTokenCipher(config))
      : undefined;
    const botCipher = botTokenCipher(config);
    const bots = botCipher ? createBotStore(deps.database.sql, botCipher) : undefined;
    // One subscriber connection per fleet, opened only when a gateway starts it (workers re-read before a send).
    const botChanges = (platform: string) => async (onChange: () => void) => {
      const sub = deps.connect();
      sub.on('message', (_channel: string, changed: string) => changed === platform && onChange());
      await sub.subscribe(k.botsChanged);
      return async () => void sub.disconnect();
    };
    const platform = buildPlatformAdapters(config, {
      redis,
      keyPrefix: config.KEY_PREFIX,
      log,
      httpFetch: deps.httpFetch,
      slackWorkspaces,
      bots,
      botChanges,
    });
    adapters.push(...platform);
    const fleets = platform.filter((a): a is BotFleet => 'sync' in a);
    const announce = async (changed: string) => void (await redis.publish(k.botsChanged, changed));
    return {
      name: 'channels',
      adapters,
      routes:
        bots && config.ADMIN_API_KEY
          ? (app) =>
              registerBotAdminRoutes(app, { store: bots, fleets, announce, adminKey: config.ADMIN_API_KEY!, log })
          : undefined,
      startGateway:
        waiters &&
        (async () => {
          await waiters.start(deps.connect());
          return () => waiters.stop();
        }),
    };
  },
});

export interface ChannelDeps {
  redis: Redis;
  keyPrefix: string;
  log: Logger;
  /** The HTTP client for the platforms' Web APIs (src/core/http-fetch.ts). */
  httpFetch?: typeof fetch;
  /** Workspaces installed through the Slack OAuth flow (when it is configured). */
  slackWorkspaces?: SlackWorkspaces;
  /** Extra bots added at run time (when a key to seal their tokens is configured). */
  bots?: BotStore;
  /** Subscribes a platform's fleet to "its bots changed" announcements (every replica hears an add at once). */
  botChanges?: (platform: string) => (onChange: () => void) => Promise<() => Promise<void>>;
}

export function buildPlatformAdapters(config: Config, deps: ChannelDeps): ChannelAdapter[] {
  const out: ChannelAdapter[] = [];
  if (config.SLACK_BOT_TOKEN || deps.slackWorkspaces) {
    out.push(
      createSlackAdapter({
        botToken: config.SLACK_BOT_TOKEN,
        ...(deps.slackWorkspaces ? { workspaces: deps.slackWorkspaces, oauth: slackOAuthOptions(config) } : {}),
        signingSecret: config.SLACK_SIGNING_SECRET ?? '',
        appToken: config.SLACK_APP_TOKEN,
        apiUrl: config.SLACK_API_URL,
        botUserId: config.SLACK_BOT_USER_ID,
        eventsPath: config.SLACK_EVENTS_PATH,
        commandsPath: config.SLACK_COMMANDS_PATH,
        allowBots: config.SLACK_ALLOW_BOTS,
        edits: config.SLACK_EDITS,
        replyInThread: config.SLACK_REPLY_IN_THREAD,
        redis: deps.redis,
        keyPrefix: deps.keyPrefix,
        log: deps.log,
        fetch: deps.httpFetch,
      }),
    );
  }
  const discord = discordChannel(config, deps);
  if (discord) out.push(discord);
  const telegram = telegramChannel(config, deps);
  if (telegram) out.push(telegram);
  return out;
}

/** Whether a platform takes added bots: its environment bot is set, or BOTS_PLATFORMS names it. */
const takesBots = (config: Config, deps: ChannelDeps, platform: string, envBot: unknown) =>
  !!deps.bots && (!!envBot || config.BOTS_PLATFORMS.split(',').includes(platform));

/** The environment's Discord bot, wrapped in a fleet when bots can be added (even with no environment's bot). */
function discordChannel(config: Config, deps: ChannelDeps): ChannelAdapter | undefined {
  const envBot = config.DISCORD_TOKEN && config.DISCORD_APPLICATION_ID && config.DISCORD_PUBLIC_KEY;
  const fleet = takesBots(config, deps, 'discord', envBot);
  if (!envBot && !fleet) return undefined;
  const shared = {
    apiUrl: config.DISCORD_API_URL,
    gateway: config.DISCORD_GATEWAY,
    requireMention: config.DISCORD_REQUIRE_MENTION,
    allowBots: config.DISCORD_ALLOW_BOTS,
    commandsGuildId: config.DISCORD_GUILD_ID,
    publicCommands: config.DISCORD_PUBLIC_COMMANDS?.split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    leaseTtlMs: config.DISCORD_LEASE_TTL_MS,
    redis: deps.redis,
    keyPrefix: deps.keyPrefix,
    log: deps.log,
  };
  const discord =
    envBot &&
    createDiscordAdapter({
      ...shared,
      token: config.DISCORD_TOKEN!,
      applicationId: config.DISCORD_APPLICATION_ID!,
      publicKey: config.DISCORD_PUBLIC_KEY!,
      interactionsPath: config.DISCORD_INTERACTIONS_PATH,
      shardCount: config.DISCORD_SHARD_COUNT,
    });
  const store = deps.bots;
  if (!store || !fleet) return discord || undefined;
  const primaryApp = discord ? config.DISCORD_APPLICATION_ID! : '';
  return createBotFleet({
    platform: 'discord',
    ...(discord ? { primary: { adapter: discord, tenant: primaryApp } } : {}),
    shape: discordShape,
    list: async () => (await store.list('discord')).map((b) => ({ ...b, version: secretsVersion(b) })),
    // An added bot's conversations are `<app>.<guild>`; the environment's bot keeps bare guild ids.
    botOf: (tenant) => discordScopeOf(tenant) ?? primaryApp,
    webhookRoute: 'interactions',
    build: (b) =>
      createDiscordAdapter({
        ...shared,
        token: b.token,
        applicationId: b.tenant,
        publicKey: b.publicKey ?? '',
        scope: b.tenant,
        log: deps.log.child({ bot: b.name }),
      }),
    ...(deps.botChanges ? { changes: deps.botChanges('discord') } : {}),
    syncMs: config.BOTS_SYNC_MS,
    log: deps.log,
  });
}

/** The environment's Telegram bot, wrapped in a fleet when bots can be added (even with no environment's bot). */
function telegramChannel(config: Config, deps: ChannelDeps): ChannelAdapter | undefined {
  const store = deps.bots;
  const fleet = takesBots(config, deps, 'telegram', config.TELEGRAM_BOT_TOKEN);
  if (!config.TELEGRAM_BOT_TOKEN && !fleet) return undefined;
  const shared = {
    apiRoot: config.TELEGRAM_API_ROOT,
    edits: config.TELEGRAM_EDITS,
    allowBots: config.TELEGRAM_ALLOW_BOTS,
    groupCommandsWithoutMention: config.TELEGRAM_GROUP_COMMANDS_WITHOUT_MENTION,
    leaseTtlMs: config.TELEGRAM_LEASE_TTL_MS,
    pollTimeoutSeconds: config.TELEGRAM_POLL_TIMEOUT_SECONDS,
    redis: deps.redis,
    keyPrefix: deps.keyPrefix,
    log: deps.log,
  };
  const telegram =
    config.TELEGRAM_BOT_TOKEN &&
    createTelegramAdapter({
      ...shared,
      token: config.TELEGRAM_BOT_TOKEN,
      mode: config.TELEGRAM_MODE,
      webhookSecret: config.TELEGRAM_WEBHOOK_SECRET,
      webhookPath: config.TELEGRAM_WEBHOOK_PATH,
    });
  if (!store || !fleet) return telegram || undefined;
  return createBotFleet({
    platform: 'telegram',
    ...(telegram ? { primary: { adapter: telegram, tenant: telegramBotId(config.TELEGRAM_BOT_TOKEN!) } } : {}),
    shape: telegramShape,
    list: async () => (await store.list('telegram')).map((b) => ({ ...b, version: secretsVersion(b) })),
    build: (b) =>
      createTelegramAdapter({
        ...shared,
        token: b.token,
        mode: b.webhookSecret ? 'webhook' : 'polling',
        webhookSecret: b.webhookSecret,
        log: deps.log.child({ bot: b.name }),
      }),
    ...(deps.botChanges ? { changes: deps.botChanges('telegram') } : {}),
    syncMs: config.BOTS_SYNC_MS,
    log: deps.log,
  });
}

function slackOAuthOptions(config: Config): SlackOAuthOptions {
  return {
    clientId: config.SLACK_CLIENT_ID!,
    clientSecret: config.SLACK_CLIENT_SECRET!,
    stateSecret: config.SLACK_STATE_SECRET!,
    scopes: config.SLACK_SCOPES.split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    installPath: config.SLACK_INSTALL_PATH,
    redirectPath: config.SLACK_REDIRECT_PATH,
    ...(config.SLACK_REDIRECT_URI ? { redirectUri: config.SLACK_REDIRECT_URI } : {}),
    ...(config.SLACK_AUTHORIZE_URL ? { authorizeUrl: config.SLACK_AUTHORIZE_URL } : {}),
  };
}
