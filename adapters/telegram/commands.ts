/**
 * The command menu Telegram clients show after "/". Published with setMyCommands, typically once at deploy.
 */
import type { Api } from 'grammy';
import { z } from 'zod';

/** Telegram's rules: 1-32 characters of a-z, 0-9 and _, and a description of 1-256 characters. */
const commandSchema = z.object({
  name: z.string().regex(/^[a-z0-9_]{1,32}$/, 'command names are 1-32 characters of a-z, 0-9 and _'),
  description: z.string().min(1).max(256),
});

export interface TelegramCommandSpec {
  name: string;
  description: string;
}

export async function publishTelegramCommands(api: Api, commands: TelegramCommandSpec[]): Promise<void> {
  const valid = z
    .array(commandSchema)
    .max(100)
    .parse(commands.map((c) => ({ ...c, name: c.name.replace(/^\//, '').toLowerCase() })));
  await api.setMyCommands(valid.map((c) => ({ command: c.name, description: c.description })));
}
