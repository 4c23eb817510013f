/**
 * The interaction payload as we accept it (zod), and its mapping to a `CommandInvocation`. Only the fields we use
 * are declared; unknown fields pass through untouched and are ignored.
 */
import { z } from 'zod';
import type { CommandInvocation } from '../../src/core/adapter.js';
import type { ConversationRef } from '../../src/core/types.js';
import { DM_TENANT } from './parse.js';

interface CommandOption {
  name: string;
  type: number;
  value?: string | number | boolean | undefined;
  options?: CommandOption[] | undefined;
}

const optionSchema: z.ZodType<CommandOption> = z.lazy(() =>
  z.object({
    name: z.string(),
    type: z.number().int(),
    value: z.union([z.string(), z.number(), z.boolean()]).optional(),
    options: z.array(optionSchema).optional(),
  }),
);

const userSchema = z.object({
  id: z.string().min(1),
  username: z.string().optional(),
  global_name: z.string().nullish(),
});

export const interactionSchema = z.object({
  id: z.string().min(1),
  application_id: z.string().min(1),
  type: z.number().int(),
  token: z.string().min(1),
  guild_id: z.string().optional(),
  channel_id: z.string().optional(),
  /** Partial channel (newer payloads): tells threads apart from channels. */
  channel: z.object({ id: z.string(), type: z.number().int(), parent_id: z.string().nullish() }).optional(),
  member: z.object({ user: userSchema, nick: z.string().nullish() }).optional(),
  user: userSchema.optional(),
  data: z.object({ name: z.string().min(1), type: z.number().int().optional(), options: z.array(optionSchema).optional() }).optional(),
});
export type Interaction = z.infer<typeof interactionSchema>;

export const InteractionType = { Ping: 1, ApplicationCommand: 2, MessageComponent: 3, Autocomplete: 4, ModalSubmit: 5 } as const;

const THREAD_TYPES = new Set([10, 11, 12]); // announcement, public, private thread

/** Sub-command (group) names first, then option values, space-separated: "/remind add text:buy milk" -> "add buy milk". */
export function flattenOptions(options: CommandOption[] | undefined): string {
  if (!options?.length) return '';
  return options
    .map((o) => (o.type === 1 || o.type === 2 ? [o.name, flattenOptions(o.options)].filter(Boolean).join(' ') : o.value === undefined ? '' : String(o.value)))
    .filter(Boolean)
    .join(' ')
    .trim();
}

/** Same conversation rules as gateway messages (see parse.ts), so a command lands in the same session. */
export function interactionConversation(i: Interaction, userId: string, channelId: string): ConversationRef {
  if (!i.guild_id) return { platform: 'discord', tenant: DM_TENANT, channel: channelId, kind: 'dm', user: userId };
  if (i.channel && THREAD_TYPES.has(i.channel.type) && i.channel.parent_id) {
    return { platform: 'discord', tenant: i.guild_id, channel: i.channel.parent_id, thread: channelId, kind: 'group' };
  }
  return { platform: 'discord', tenant: i.guild_id, channel: channelId, kind: 'group' };
}

/** undefined when the payload lacks what a command needs (data, channel, user). */
export function toInvocation(i: Interaction): CommandInvocation | undefined {
  const user = i.member?.user ?? i.user;
  const channelId = i.channel_id ?? i.channel?.id;
  if (!user || !i.data || !channelId) return undefined;
  const conversation = interactionConversation(i, user.id, channelId);
  const name = i.member?.nick ?? user.global_name ?? user.username;
  return {
    platform: 'discord',
    tenant: conversation.tenant,
    conversation,
    user: { id: user.id, ...(name ? { name } : {}) },
    name: i.data.name.toLowerCase(),
    args: flattenOptions(i.data.options),
    id: `discord-int:${i.id}`,
  };
}
