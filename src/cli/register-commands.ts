/**
 * Publishes the command registry to the platforms that keep a list of their own: Discord application commands (per
 * guild with DISCORD_GUILD_ID for instant updates while developing, else global) and Telegram's "/" menu
 * (setMyCommands). Slack's slash command is declared in adapters/slack/manifest.yaml (one `/agent` routes them all).
 * Both calls replace the whole list, so running this from every gateway replica, or again, is harmless.
 */
import { Api } from 'grammy';
import type { Logger } from 'pino';
import { registerDiscordCommands } from '../../adapters/discord/commands.js';
import { publishTelegramCommands } from '../../adapters/telegram/commands.js';
import type { CommandDef } from '../commands/registry.js';
import type { Config } from '../config/env.js';

export interface RegistrationResult {
  discord?: number;
  telegram?: number;
}

export async function registerPlatformCommands(config: Config, commands: CommandDef[], log: Logger): Promise<RegistrationResult> {
  const out: RegistrationResult = {};
  if (config.DISCORD_TOKEN && config.DISCORD_APPLICATION_ID) {
    const registered = await registerDiscordCommands(
      { token: config.DISCORD_TOKEN, applicationId: config.DISCORD_APPLICATION_ID, guildId: config.DISCORD_GUILD_ID, apiUrl: config.DISCORD_API_URL },
      commands.map((c) => ({
        name: c.name,
        description: c.description.slice(0, 100),
        options: [{ type: 3, name: 'args', description: (c.usage ?? 'arguments').slice(0, 100), required: false }],
      })),
    );
    out.discord = registered.length;
    log.info({ count: registered.length, guild: config.DISCORD_GUILD_ID ?? 'global' }, 'discord commands registered');
  }
  if (config.TELEGRAM_BOT_TOKEN) {
    const api = new Api(config.TELEGRAM_BOT_TOKEN, config.TELEGRAM_API_ROOT ? { apiRoot: config.TELEGRAM_API_ROOT.replace(/\/$/, '') } : undefined);
    await publishTelegramCommands(api, commands.map((c) => ({ name: c.name, description: c.description })));
    out.telegram = commands.length;
    log.info({ count: commands.length }, 'telegram commands published');
  }
  return out;
}
