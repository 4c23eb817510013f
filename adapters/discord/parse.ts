/**
 * A gateway MESSAGE_CREATE (a discord.js `Message`) -> the normalized `InboundEvent`; an interaction (schema.ts)
 * -> a `CommandInvocation` in the same conversation.
 *
 * Conversation mapping (the session key follows from it, see `conversationKey`):
 * - DM:              tenant `dm`, channel = DM channel id, user = author id   -> discord:dm:dm:{user}
 * - guild channel:   tenant = guild id, channel = channel id                 -> discord:{guild}:{channel}
 * - thread / forum post: channel = PARENT channel id, thread = thread id     -> discord:{guild}:{parent}:{thread}
 * Threads keep their parent as `channel` so a thread key reads like Slack's (channel + thread) and a channel's
 * threads can be found by prefix; sends go to the thread id (a thread is its own channel on Discord).
 */
import { approvalInvocation, parseApprovalButton, type MentionSyntax } from '../../src/core/adapter.js';
import type { Message } from 'discord.js';
import type { CommandInvocation } from '../../src/core/adapter.js';
import type { ConversationRef, InboundEvent } from '../../src/core/types.js';
import type { CommandOption, Interaction } from './schema.js';

export const DM_TENANT = 'dm';

export function conversationOf(message: Message): ConversationRef {
  if (!message.inGuild()) {
    return { platform: 'discord', tenant: DM_TENANT, channel: message.channelId, kind: 'dm', user: message.author.id };
  }
  const channel = message.channel;
  if (channel.isThread() && channel.parentId) {
    return {
      platform: 'discord',
      tenant: message.guildId,
      channel: channel.parentId,
      thread: channel.id,
      kind: 'group',
    };
  }
  return { platform: 'discord', tenant: message.guildId, channel: message.channelId, kind: 'group' };
}

/** Drop the bot's own mention (it only addressed the message) and turn other user mentions into readable names. */
export function cleanContent(message: Message, botId: string): string {
  const text = message.content.replace(/<@!?(\d+)>/g, (raw, id: string) => {
    if (id === botId) return '';
    const user = message.mentions.users.get(id);
    if (!user) return raw;
    const member = message.mentions.members?.get(id);
    return `@${member?.displayName ?? user.globalName ?? user.username}`;
  });
  return text
    .replace(/[ \t]{2,}/g, ' ')
    .replace(/^[ \t]+|[ \t]+$/gm, '')
    .trim();
}

export function senderName(message: Message): string {
  return message.member?.displayName ?? message.author.globalName ?? message.author.username;
}

export function toInboundEvent(
  message: Message,
  botId: string,
  mentionsBot: boolean,
  receivedAt = new Date(),
): InboundEvent {
  const conversation = conversationOf(message);
  return {
    id: `discord:${message.id}`,
    platform: 'discord',
    tenant: conversation.tenant,
    conversation,
    sender: {
      id: message.author.id,
      name: senderName(message),
      isBot: message.author.bot || Boolean(message.webhookId),
    },
    text: cleanContent(message, botId),
    attachments: [...message.attachments.values()].map((a) => ({
      name: a.name,
      ...(a.contentType ? { mimeType: a.contentType } : {}),
      size: a.size,
      url: a.url,
      // Voice messages carry a waveform (and the IS_VOICE_MESSAGE flag on the message).
      ...(a.waveform ? { voice: true } : {}),
    })),
    mentionsBot,
    ...(message.reference?.messageId ? { replyTo: message.reference.messageId } : {}),
    platformMessageId: message.id,
    kind: 'message',
    sentAt: message.createdAt.toISOString(),
    receivedAt: receivedAt.toISOString(),
  };
}

const THREAD_TYPES = new Set([10, 11, 12]); // announcement, public, private thread

/** Sub-command (group) names first, then option values, space-separated: "/remind add text:buy milk" -> "add buy milk". */
export function flattenOptions(options: CommandOption[] | undefined): string {
  if (!options?.length) return '';
  return options
    .map((o) =>
      o.type === 1 || o.type === 2
        ? [o.name, flattenOptions(o.options)].filter(Boolean).join(' ')
        : o.value === undefined
          ? ''
          : String(o.value),
    )
    .filter(Boolean)
    .join(' ')
    .trim();
}

/** Same conversation rules as gateway messages (above), so a command lands in the same session. */
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
  const data = i.data;
  if (!user || !data?.name || !channelId) return undefined;
  const conversation = interactionConversation(i, user.id, channelId);
  const name = i.member?.nick ?? user.global_name ?? user.username;
  return {
    platform: 'discord',
    tenant: conversation.tenant,
    conversation,
    user: { id: user.id, ...(name ? { name } : {}) },
    name: data.name.toLowerCase(),
    args: flattenOptions(data.options),
    id: `discord-int:${i.id}`,
  };
}

/** An Approve / Reject button (message component) as the decision command; undefined for any other component. */
export function componentInvocation(i: Interaction): CommandInvocation | undefined {
  const button = parseApprovalButton(i.data?.custom_id ?? '');
  if (!button) return undefined;
  const inv = toInvocation({ ...i, data: { name: 'approve' } });
  return inv && approvalInvocation(button, inv);
}

/** How an admin command names a user on this platform (src/access/mentions.ts). */
export const discordMentions: MentionSyntax = {
  parse(token) {
    const t = token.trim();
    const m = /^<@!?(\d{5,25})>$/.exec(t) ?? /^(\d{5,25})$/.exec(t);
    return m ? { kind: 'id', id: m[1]! } : undefined;
  },
  forms: 'a mention like <@123> or a user id',
};
