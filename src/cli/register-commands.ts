/**
 * Publishes the command registry to every channel adapter that declares a command publisher (`publishCommands`):
 * Discord application commands (per guild with DISCORD_GUILD_ID for instant updates while developing, else global)
 * and Telegram's "/" menu today. Slack's slash command is declared in adapters/slack/manifest.yaml (one `/agent`
 * routes them all). Publishers replace the whole list, so running this from every gateway replica, or again, is
 * harmless.
 */
import type { Logger } from 'pino';
import type { ChannelAdapter } from '../core/adapter.js';
import type { Platform } from '../core/types.js';
import type { CommandDef } from '../commands/registry.js';

export type RegistrationResult = Partial<Record<Platform, number>>;

export async function registerPlatformCommands(
  adapters: ChannelAdapter[],
  commands: CommandDef[],
  log: Logger,
): Promise<RegistrationResult> {
  const out: RegistrationResult = {};
  const list = commands.map((c) => ({ name: c.name, description: c.description, usage: c.usage }));
  for (const a of adapters) {
    if (!a.publishCommands) continue;
    out[a.platform] = await a.publishCommands(list);
    log.info({ platform: a.platform, count: out[a.platform] }, 'commands published');
  }
  return out;
}
