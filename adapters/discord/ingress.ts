/**
 * Gateway message -> gate -> normalize -> sink.submit. The gateway gives no acknowledgement to hold back, so a
 * failed submit (Redis hiccup) is retried in-process a few times before it is logged as lost. Messages of one
 * conversation are handled one after another, in arrival order, so the inbox sees them in the order users wrote.
 */
import type { Message } from 'discord.js';
import type { Logger } from 'pino';
import type { IngressSink } from '../../src/core/adapter.js';
import { IngressError } from '../../src/core/errors.js';
import { conversationKey } from '../../src/core/types.js';
import { gate, type GateOptions } from './gate.js';
import { conversationOf, toInboundEvent } from './parse.js';
import { safeErr } from '../../src/observability/logger.js';

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
      this.log.error({ messageId: message.id, channel: message.channelId, err: safeErr(err) }, 'discord message lost: could not enqueue');
    }
  }
}
