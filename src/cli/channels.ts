/**
 * Which platform channels this deployment has, from configuration: a channel is on when its token is set.
 * Every process builds them (workers render and send); only gateway processes start their connections.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { createDiscordAdapter } from '../../adapters/discord/index.js';
import { createSlackAdapter } from '../../adapters/slack/index.js';
import { createTelegramAdapter } from '../../adapters/telegram/index.js';
import type { ChannelAdapter } from '../core/adapter.js';
import type { Config } from '../config/env.js';

export interface ChannelDeps {
  redis: Redis;
  keyPrefix: string;
  log: Logger;
}

export function buildPlatformAdapters(config: Config, deps: ChannelDeps): ChannelAdapter[] {
  const out: ChannelAdapter[] = [];
  if (config.SLACK_BOT_TOKEN) {
    out.push(createSlackAdapter({
      botToken: config.SLACK_BOT_TOKEN,
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
    }));
  }
  if (config.DISCORD_TOKEN && config.DISCORD_APPLICATION_ID && config.DISCORD_PUBLIC_KEY) {
    out.push(createDiscordAdapter({
      token: config.DISCORD_TOKEN,
      applicationId: config.DISCORD_APPLICATION_ID,
      publicKey: config.DISCORD_PUBLIC_KEY,
      apiUrl: config.DISCORD_API_URL,
      interactionsPath: config.DISCORD_INTERACTIONS_PATH,
      gateway: config.DISCORD_GATEWAY,
      requireMention: config.DISCORD_REQUIRE_MENTION,
      allowBots: config.DISCORD_ALLOW_BOTS,
      publicCommands: config.DISCORD_PUBLIC_COMMANDS?.split(',').map((s) => s.trim()).filter(Boolean),
      leaseTtlMs: config.DISCORD_LEASE_TTL_MS,
      redis: deps.redis,
      keyPrefix: deps.keyPrefix,
      log: deps.log,
    }));
  }
  if (config.TELEGRAM_BOT_TOKEN) {
    out.push(createTelegramAdapter({
      token: config.TELEGRAM_BOT_TOKEN,
      apiRoot: config.TELEGRAM_API_ROOT,
      mode: config.TELEGRAM_MODE,
      webhookSecret: config.TELEGRAM_WEBHOOK_SECRET,
      webhookPath: config.TELEGRAM_WEBHOOK_PATH,
      edits: config.TELEGRAM_EDITS,
      allowBots: config.TELEGRAM_ALLOW_BOTS,
      groupCommandsWithoutMention: config.TELEGRAM_GROUP_COMMANDS_WITHOUT_MENTION,
      leaseTtlMs: config.TELEGRAM_LEASE_TTL_MS,
      pollTimeoutSeconds: config.TELEGRAM_POLL_TIMEOUT_SECONDS,
      redis: deps.redis,
      keyPrefix: deps.keyPrefix,
      log: deps.log,
    }));
  }
  return out;
}
