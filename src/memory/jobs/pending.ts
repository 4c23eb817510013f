/**
 * Scheduling extraction after turns, debounced per user: a durable BullMQ job delayed by MEMORY_EXTRACT_DELAY_MS and
 * deduplicated by user (`keepLastIfActive`): every turn of a burst lands on the one waiting job, and a turn that
 * commits while the job runs yields exactly one more run afterwards. Which conversations to read sits in a Redis
 * hash per user (conversation -> when), cleared field by field once read, unless it changed meanwhile.
 */
import { Queue, type ConnectionOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { keys, QUEUE_NAMES, type Keys } from '../../queue/keys.js';
import { runScript } from '../../core/scripts.js';

export const QUEUE_MEMORY = QUEUE_NAMES.memory;

export interface ExtractionJob {
  userKey: string;
  /**
   * The W3C traceparent of the turn that scheduled this run (absent when tracing is off): the extraction's own
   * trace links to it. A debounced burst keeps the first turn's job (or, while a run is active, the last turn's).
   */
  traceparent?: string;
}

export interface PendingConversation {
  conversationKey: string;
  /** The raw hash value, for compare-and-delete. */
  raw: string;
}

const PENDING_TTL_SECONDS = 30 * 86_400;

export class ExtractionScheduler {
  private queue: Queue<ExtractionJob> | undefined;
  private k: Keys | undefined;

  constructor(
    private readonly redis: Redis,
    /** The extraction queue's connection (BullMQ's scripts stay off `redis`: see queueRedis in src/cli/app.ts). */
    private readonly queueRedis: Redis,
    private readonly keyPrefix: string,
    private readonly bullPrefix: string,
    private readonly delayMs: number,
  ) {}

  pendingKey(userKey: string): string {
    this.k ??= keys(this.keyPrefix);
    return this.k.memoryPending(userKey);
  }

  get jobs(): Queue<ExtractionJob> {
    this.queue ??= new Queue<ExtractionJob>(QUEUE_MEMORY, {
      connection: this.queueRedis as ConnectionOptions,
      prefix: this.bullPrefix,
    });
    return this.queue;
  }

  async schedule(userKey: string, conversationKey: string, traceparent?: string): Promise<void> {
    const key = this.pendingKey(userKey);
    await runScript(
      this.redis,
      'hash-set-ttl',
      [key],
      [conversationKey, JSON.stringify({ at: Date.now() }), PENDING_TTL_SECONDS],
    );
    await this.jobs.add('extract', traceparent ? { userKey, traceparent } : { userKey }, {
      delay: this.delayMs,
      deduplication: { id: `mem:${userKey}`, keepLastIfActive: true },
      attempts: 8,
      backoff: { type: 'exponential', delay: 2_000 },
      // Kept for a while so operators (and the debounce test) can see how many runs there were.
      removeOnComplete: { age: 3_600, count: 1_000 },
      removeOnFail: { age: 7 * 86_400 },
    });
  }

  async pending(userKey: string): Promise<PendingConversation[]> {
    const all = await this.redis.hgetall(this.pendingKey(userKey));
    return Object.entries(all).map(([conversationKey, raw]) => ({ conversationKey, raw }));
  }

  async done(userKey: string, p: PendingConversation): Promise<void> {
    await runScript(this.redis, 'hash-clear-if-unchanged', [this.pendingKey(userKey)], [p.conversationKey, p.raw]);
  }

  async close(): Promise<void> {
    await this.queue?.close();
  }
}
