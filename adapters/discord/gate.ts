/**
 * Which gateway messages the bot answers. DMs: always. Guild channels: when the bot's user is mentioned (not
 * @everyone, not a role), or in a thread the bot started or was mentioned in before (remembered in Redis via
 * ThreadTracker so every replica agrees). `requireMention: false` answers every message the bot can read.
 * The bot's own messages are always dropped; other bots and webhooks unless `allowBots`.
 */
import { MessageType, type Message } from 'discord.js';
import type { ThreadTracker } from '../kit/thread-tracker.js';
import { conversationKey, type ConversationRef } from '../../src/core/types.js';

export interface GateOptions {
  botId: string;
  requireMention: boolean;
  allowBots: boolean;
  tracker?: ThreadTracker;
}

export type GateDecision = { answer: true; mentioned: boolean; reason: string } | { answer: false; reason: string };

/** Ordinary user text; joins, pins, thread-created notices and the like are not addressed to anyone. */
const USER_MESSAGE_TYPES = new Set<MessageType>([MessageType.Default, MessageType.Reply]);

export async function gate(message: Message, ref: ConversationRef, opts: GateOptions): Promise<GateDecision> {
  if (message.author.id === opts.botId) return { answer: false, reason: 'own message' };
  if ((message.author.bot || message.webhookId) && !opts.allowBots) return { answer: false, reason: 'bot author' };
  if (message.system || !USER_MESSAGE_TYPES.has(message.type)) return { answer: false, reason: 'system message' };

  // `mentions.users` holds explicit user mentions (and the replied-to user when the reply pings); @everyone and
  // role mentions are tracked separately and deliberately do not count.
  const mentioned = message.mentions.users.has(opts.botId);
  if (ref.kind === 'dm') return { answer: true, mentioned, reason: 'dm' };

  if (ref.thread) {
    const key = conversationKey(ref);
    if (mentioned) {
      // Best effort: failing to remember the thread must not cost the message that mentions the bot.
      await opts.tracker?.add(key).catch(() => undefined);
      return { answer: true, mentioned, reason: 'mentioned in thread' };
    }
    if (!opts.requireMention) return { answer: true, mentioned, reason: 'mention not required' };
    const channel = message.channel;
    if (channel.isThread() && channel.ownerId === opts.botId) return { answer: true, mentioned, reason: 'thread started by the bot' };
    if (await opts.tracker?.has(key)) return { answer: true, mentioned, reason: 'thread the bot takes part in' };
    return { answer: false, reason: 'thread without mention' };
  }
  if (mentioned) return { answer: true, mentioned, reason: 'mentioned' };
  if (!opts.requireMention) return { answer: true, mentioned, reason: 'mention not required' };
  return { answer: false, reason: 'not mentioned' };
}
