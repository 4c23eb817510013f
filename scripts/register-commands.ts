/**
 * `npm run commands:register`: publish the command registry to the platforms that need it.
 * - Discord: application commands (per guild with DISCORD_GUILD_ID for instant updates while developing, else global).
 * - Telegram: the command list shown in the chat menu (setMyCommands).
 * - Slack: slash commands are declared in adapters/slack/manifest.yaml (one `/agent` command routes them all).
 */
import { Api } from 'grammy';
import { registerDiscordCommands } from '../adapters/discord/commands.js';
import { publishTelegramCommands } from '../adapters/telegram/commands.js';
import { CommandRegistry } from '../src/commands/registry.js';
import { loadConfig } from '../src/config/env.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const commands = new CommandRegistry().list();
  let done = 0;
  if (config.DISCORD_TOKEN && config.DISCORD_APPLICATION_ID) {
    const registered = await registerDiscordCommands(
      { token: config.DISCORD_TOKEN, applicationId: config.DISCORD_APPLICATION_ID, guildId: config.DISCORD_GUILD_ID, apiUrl: config.DISCORD_API_URL },
      commands.map((c) => ({
        name: c.name,
        description: c.description.slice(0, 100),
        options: [{ type: 3, name: 'args', description: c.usage ?? 'arguments', required: false }],
      })),
    );
    console.log(`discord: registered ${registered.length} commands ${config.DISCORD_GUILD_ID ? `in guild ${config.DISCORD_GUILD_ID}` : 'globally'}`);
    done++;
  }
  if (config.TELEGRAM_BOT_TOKEN) {
    const api = new Api(config.TELEGRAM_BOT_TOKEN, config.TELEGRAM_API_ROOT ? { apiRoot: config.TELEGRAM_API_ROOT.replace(/\/$/, '') } : undefined);
    await publishTelegramCommands(api, commands.map((c) => ({ name: c.name, description: c.description })));
    console.log(`telegram: published ${commands.length} commands`);
    done++;
  }
  if (!done) console.log('no Discord or Telegram token configured; nothing to register (Slack: see adapters/slack/manifest.yaml)');
}

main().catch((err) => {
  console.error(`command registration failed: ${(err as Error).message}`);
  process.exit(1);
});
