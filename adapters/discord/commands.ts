/**
 * Register slash commands: PUT replaces the whole set (global, or one guild's, which updates instantly and suits
 * development). Options use Discord's own shape; give a command a string option (e.g. `text`) when it takes
 * free text: its value arrives as `CommandInvocation.args`.
 */
import { Routes, type APIApplicationCommandOption } from 'discord-api-types/v10';
import { createRest } from './client.js';

export interface DiscordCommandSpec {
  name: string;
  description: string;
  options?: APIApplicationCommandOption[];
}

export interface RegisterCommandsOptions {
  token: string;
  applicationId: string;
  /** Register for one guild only (instant); omit for global commands. */
  guildId?: string;
  apiUrl?: string;
}

export async function registerDiscordCommands(
  opts: RegisterCommandsOptions,
  commands: DiscordCommandSpec[],
): Promise<{ id: string; name: string }[]> {
  const rest = createRest({ token: opts.token, ...(opts.apiUrl ? { apiUrl: opts.apiUrl } : {}) });
  const route = opts.guildId
    ? Routes.applicationGuildCommands(opts.applicationId, opts.guildId)
    : Routes.applicationCommands(opts.applicationId);
  const body = commands.map((c) => ({
    type: 1,
    name: c.name.toLowerCase(),
    description: c.description,
    options: c.options ?? [],
  }));
  return (await rest.put(route, { body })) as { id: string; name: string }[];
}
