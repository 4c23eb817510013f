/**
 * A lease in Redis: "only one process does X at a time" across replicas (the Discord gateway connection, the
 * Telegram poller, the schedule reconciler). The holder renews it; when it dies the key expires and a stand-by
 * takes over. The value is a random token, so only the holder can renew or release it. The key is built from
 * a caller-chosen name; callers hash secrets (bot tokens) before using them in a name.
 *
 * This module owns every command on a lease key (acquire, renew, release, holder check, the timing defaults);
 * the numbered leases of ./shard-leases.ts go through the same functions, one key per shard.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { safeErr } from '../core/safe-error.js';
import { runScript } from '../core/scripts.js';

export interface LeaseOptions {
  ttlMs?: number;
  /** How often the holder renews and a stand-by retries; well under ttlMs. */
  intervalMs?: number;
}

/** TTL 15 s by default; renewal (and stand-by retries) three times per TTL, never more often than every 200 ms. */
export function leaseTiming(opts: LeaseOptions = {}): { ttlMs: number; intervalMs: number } {
  const ttlMs = opts.ttlMs ?? 15_000;
  return { ttlMs, intervalMs: opts.intervalMs ?? Math.max(200, Math.floor(ttlMs / 3)) };
}

/** Take the key for `token` if nobody holds it (SET NX PX). */
export async function acquireLease(redis: Redis, key: string, token: string, ttlMs: number): Promise<boolean> {
  return (await redis.set(key, token, 'PX', ttlMs, 'NX')) === 'OK';
}

/** Extend the key's TTL if `token` still holds it. */
export async function renewLease(redis: Redis, key: string, token: string, ttlMs: number): Promise<boolean> {
  return (await runScript(redis, 'lease-renew', [key], [token, ttlMs])) === 1;
}

/** Delete the key if `token` still holds it, so a stand-by need not wait out the TTL. */
export async function releaseLease(redis: Redis, key: string, token: string): Promise<void> {
  await runScript(redis, 'delete-if-equals', [key], [token]);
}

/** Does Redis show `token` as the key's holder right now? */
export async function holdsLease(redis: Redis, key: string, token: string): Promise<boolean> {
  return (await redis.get(key)) === token;
}

export interface LeaseHandlers {
  /** Called when this process becomes the holder. Return quickly: renewal resumes only after it returns. */
  onAcquired(): Promise<void> | void;
  /** Called when the lease is lost (renewal failed) or released on stop. Stop the guarded work here. */
  onLost(): Promise<void> | void;
}

export class RedisLease {
  private readonly token = randomUUID();
  private timer: NodeJS.Timeout | undefined;
  private holding = false;
  private stopped = false;
  private readonly ttlMs: number;
  private readonly intervalMs: number;

  constructor(
    private readonly redis: Redis,
    readonly key: string,
    private readonly handlers: LeaseHandlers,
    private readonly log: Logger,
    opts: LeaseOptions = {},
  ) {
    ({ ttlMs: this.ttlMs, intervalMs: this.intervalMs } = leaseTiming(opts));
  }

  get held(): boolean {
    return this.holding;
  }

  /** Start contending for the lease; returns at once. */
  start(): void {
    this.stopped = false;
    void this.tick();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), this.intervalMs);
    this.timer.unref?.();
  }

  private async tick(): Promise<void> {
    try {
      if (this.holding) {
        const ok = await renewLease(this.redis, this.key, this.token, this.ttlMs);
        if (!ok) await this.lose('renewal refused (another holder or expired)');
      } else {
        const ok = await acquireLease(this.redis, this.key, this.token, this.ttlMs);
        if (ok && this.stopped) {
          // stop() ran while this SET was in flight: give the key straight back so a stand-by need not wait a TTL.
          await releaseLease(this.redis, this.key, this.token);
          return;
        }
        if (ok) {
          this.holding = true;
          this.log.info({ lease: this.key }, 'lease acquired');
          await this.handlers.onAcquired();
        }
      }
    } catch (err) {
      // Redis unreachable: a holder cannot prove it still holds the lease, so it steps down before the TTL ends.
      this.log.warn({ lease: this.key, err: safeErr(err) }, 'lease check failed');
      if (this.holding) await this.lose('redis unreachable');
    }
    this.schedule();
  }

  private async lose(reason: string): Promise<void> {
    this.holding = false;
    this.log.warn({ lease: this.key, reason }, 'lease lost');
    try {
      await this.handlers.onLost();
    } catch (err) {
      this.log.error({ lease: this.key, err: safeErr(err) }, 'lease onLost failed');
    }
  }

  /** Stop contending; a holder releases the key so a stand-by takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.holding) {
      this.holding = false;
      try {
        await this.handlers.onLost();
      } finally {
        await releaseLease(this.redis, this.key, this.token).catch(() => undefined);
      }
    }
  }
}
