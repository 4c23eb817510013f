/**
 * The two BullMQ queues. Both carry only a conversation key: the messages live in the inbox (Redis) and the
 * replies in the outbox (database), so job data never holds tokens or message text.
 *
 * Serialisation per conversation uses BullMQ deduplication with `keepLastIfActive` (bullmq >= 6): at most one
 * active and one waiting job per conversation. An add while a job is active is stored and becomes a new job the
 * moment the active one finishes, so a message landing during a turn always gets one more turn afterwards.
 */
import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { QUEUE_OUTBOUND, QUEUE_TURNS, type Keys } from './keys.js';

export interface ConversationJob {
  conversationKey: string;
}

/**
 * Retries are for infrastructure failures (database down, platform 5xx); the work itself is idempotent, so a job
 * keeps retrying — with a capped back-off, so that after an outage work resumes within seconds, not hours.
 */
export const RETRY_CAP_MS = 15_000;
export function retryDelay(attemptsMade: number): number {
  const base = Math.min(RETRY_CAP_MS, 250 * 2 ** Math.max(0, attemptsMade - 1));
  return Math.round(base / 2 + Math.random() * (base / 2));
}

const common: JobsOptions = {
  removeOnComplete: true,
  removeOnFail: { age: 7 * 24 * 3600 },
  attempts: 100_000,
  backoff: { type: 'capped' },
};

export class Queues {
  readonly turns: Queue<ConversationJob>;
  readonly outbound: Queue<ConversationJob>;

  constructor(
    connection: Redis,
    readonly k: Keys,
  ) {
    const opts = { connection: connection as ConnectionOptions, prefix: k.bullPrefix };
    this.turns = new Queue<ConversationJob>(QUEUE_TURNS, opts);
    this.outbound = new Queue<ConversationJob>(QUEUE_OUTBOUND, opts);
  }

  /** Make sure a turn will run for this conversation (a no-op if one is already waiting). */
  async scheduleTurn(conversationKey: string, delayMs = 0): Promise<void> {
    await this.turns.add(
      'turn',
      { conversationKey },
      {
        ...common,
        delay: delayMs,
        deduplication: { id: `t:${conversationKey}`, keepLastIfActive: true },
      },
    );
  }

  /** Make sure the outbox of this conversation will be delivered. */
  async scheduleDelivery(conversationKey: string, delayMs = 0): Promise<void> {
    await this.outbound.add(
      'deliver',
      { conversationKey },
      {
        ...common,
        delay: delayMs,
        deduplication: { id: `o:${conversationKey}`, keepLastIfActive: true },
      },
    );
  }

  async close(): Promise<void> {
    await Promise.all([this.turns.close(), this.outbound.close()]);
  }
}
