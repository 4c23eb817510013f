/**
 * Remembers which threads the bot takes part in (it was mentioned there, or started it), so follow-ups in those
 * threads are answered without a new mention. Kept in Redis so every gateway replica agrees.
 */
import type { Redis } from 'ioredis';

/** What parsing and gating need of it (tests without Redis hand in a plain set). */
export interface ThreadMemory {
  add(threadKey: string): Promise<void>;
  has(threadKey: string): Promise<boolean>;
}

export class ThreadTracker implements ThreadMemory {
  constructor(
    private readonly redis: Redis,
    /** The Redis key of a thread (built by the key owner, src/queue/keys.ts `threadKey`). */
    private readonly keyOf: (thread: string) => string,
    private readonly ttlSeconds = 30 * 24 * 3600,
  ) {}

  private key(thread: string): string {
    return this.keyOf(thread);
  }

  async add(threadKey: string): Promise<void> {
    await this.redis.set(this.key(threadKey), '1', 'EX', this.ttlSeconds);
  }

  async has(threadKey: string): Promise<boolean> {
    return (await this.redis.exists(this.key(threadKey))) === 1;
  }
}
