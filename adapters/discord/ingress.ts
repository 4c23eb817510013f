/**
 * Gateway message -> gate -> normalize -> sink.submit. The gateway gives no acknowledgement to hold back, so a
 * failed submit (Redis hiccup) is retried in-process a few times before it is logged as lost. Messages of one
 * conversation are handled one after another, in arrival order, so the inbox sees them in the order users wrote.
 *
 * The gate decides which messages the bot answers. DMs: always. Guild channels: when the bot's user is mentioned
 * (not @everyone, not a role), or in a thread the bot started or was mentioned in before (remembered in Redis via
 * ThreadTracker so every replica agrees). `requireMention: false` answers every message the bot can read.
 * The bot's own messages are always dropped; other bots and webhooks unless `allowBots`.
 */
import { MessageType } from 'discord-api-types/v10';
import type { Message } from 'discord.js';
import type { Logger } from 'pino';
import type { IngressSink } from '../../src/core/adapter.js';
import { IngressError } from '../../src/core/errors.js';
import { conversationKey, type ConversationRef } from '../../src/core/types.js';
import type { ThreadMemory } from '../kit/thread-tracker.js';
import { conversationOf, toInboundEvent } from './parse.js';
import { safeErr } from '../../src/observability/logger.js';

export interface GateOptions {
  botId: string;
  requireMention: boolean;
  allowBots: boolean;
  tracker?: ThreadMemory;
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
    if (channel.isThread() && channel.ownerId === opts.botId)
      return { answer: true, mentioned, reason: 'thread started by the bot' };
    if (await opts.tracker?.has(key)) return { answer: true, mentioned, reason: 'thread the bot takes part in' };
    return { answer: false, reason: 'thread without mention' };
  }
  if (mentioned) return { answer: true, mentioned, reason: 'mentioned' };
  if (!opts.requireMention) return { answer: true, mentioned, reason: 'mention not required' };
  return { answer: false, reason: 'not mentioned' };
}

const SUBMIT_RETRY_MS = [250, 1000, 4000];

export class MessageIngest {
  private readonly chains = new Map<string, Promise<void>>();

  constructor(
    private readonly sink: IngressSink,
    private readonly opts: Omit<GateOptions, 'botId'>,
    private readonly log: Logger,
  ) {}

  /** Never rejects; returns when this message has been handled (useful to tests and shutdown). */
  handle(message: Message, botId: string): Promise<void> {
    const ref = conversationOf(message);
    const key = conversationKey(ref);
    const prev = this.chains.get(key) ?? Promise.resolve();
    const next = prev.then(() => this.process(message, botId));
    this.chains.set(key, next);
    void next.then(() => {
      if (this.chains.get(key) === next) this.chains.delete(key);
    });
    return next;
  }

  /** Wait for everything in flight (graceful stop). */
  async drain(): Promise<void> {
    await Promise.all([...this.chains.values()]);
  }

  private async process(message: Message, botId: string): Promise<void> {
    const ref = conversationOf(message);
    try {
      const decision = await gate(message, ref, { ...this.opts, botId });
      if (!decision.answer) {
        this.log.debug({ messageId: message.id, reason: decision.reason }, 'discord message ignored');
        return;
      }
      const event = toInboundEvent(message, botId, decision.mentioned);
      for (let attempt = 0; ; attempt++) {
        try {
          const outcome = await this.sink.submit(event);
          this.log.debug({ eventId: event.id, outcome, reason: decision.reason }, 'discord message submitted');
          return;
        } catch (err) {
          const wait = SUBMIT_RETRY_MS[attempt];
          // A refusal (invalid event) is final: retrying the same message cannot change the answer.
          if (wait === undefined || err instanceof IngressError) throw err;
          this.log.warn({ eventId: event.id, err: safeErr(err), retryInMs: wait }, 'discord submit failed, retrying');
          await new Promise((r) => setTimeout(r, wait));
        }
      }
    } catch (err) {
      // Content is never logged: only ids.
      this.log.error(
        { messageId: message.id, channel: message.channelId, err: safeErr(err) },
        'discord message lost: could not enqueue',
      );
    }
  }
}
