/**
 * Long polling with exactly one poller per bot token across all replicas (Telegram answers 409 Conflict to a
 * second concurrent getUpdates). A RedisLease elects the poller; the others stand by and take over when the
 * holder stops or dies.
 *
 * The loop is written here on `api.getUpdates` rather than grammY's `bot.start()` because of acknowledgement:
 * Telegram forgets an update once a later getUpdates passes an offset above its update_id, and `bot.start()`
 * advances the offset as soon as a batch is fetched, whatever its handlers did with it. Here the offset moves
 * past an update only after `sink.submit` resolved (the event is durably queued); if submitting fails, the same
 * update is retried with back-off, never skipped. When the lease is lost the in-flight getUpdates is aborted at
 * once, and the next holder starts from the offset Telegram last confirmed: at worst it re-reads a few updates
 * this poller already submitted, which the sink dedupes by event id.
 */
import { GrammyError, type Api } from 'grammy';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ChannelHealth } from '../../src/core/adapter.js';
import { IngressError } from '../../src/core/errors.js';
import { RedisLease } from '../../src/queue/lease.js';
import { platformLeaseKey } from '../../src/queue/keys.js';
import { backoffDelay, DEFAULT_BACKOFF, sleep, type Backoff } from '../kit/backoff.js';
import { ALLOWED_UPDATES } from './limits.js';
import { safeErr } from '../../src/observability/logger.js';

export interface PollerOptions {
  api: Api;
  redis: Redis;
  keyPrefix: string;
  token: string;
  leaseTtlMs?: number;
  /** Long-poll duration Telegram holds each getUpdates open when there is nothing to deliver. */
  pollTimeoutSeconds?: number;
  backoff?: Backoff;
  /** Submit one update; throw to have it retried (IngressError: malformed, skipped). */
  handle(update: unknown): Promise<void>;
  log(): Logger;
}

/** The lease is named after a hash of the token: the token itself must never appear in Redis keys or logs. */
export function pollingLeaseKey(keyPrefix: string, token: string): string {
  return platformLeaseKey(keyPrefix, 'telegram', token);
}

/** grammY types its signals with the abort-controller polyfill; a native AbortSignal works at run time. */
type GrammySignal = Parameters<Api['getUpdates']>[1];

export class TelegramPoller {
  private readonly lease: RedisLease;
  private controller: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private started = false;
  private loopState: ChannelHealth = { state: 'connecting' };
  private readonly timeout: number;
  private readonly backoff: Backoff;

  constructor(private readonly o: PollerOptions) {
    this.timeout = o.pollTimeoutSeconds ?? 30;
    this.backoff = o.backoff ?? DEFAULT_BACKOFF;
    this.lease = new RedisLease(
      o.redis,
      pollingLeaseKey(o.keyPrefix, o.token),
      { onAcquired: () => this.begin(), onLost: () => this.end() },
      o.log(),
      { ttlMs: o.leaseTtlMs ?? 15_000 },
    );
  }

  /** Start contending for the lease; returns at once. */
  start(): void {
    this.started = true;
    this.lease.start();
  }

  /** Stop polling and release the lease so a stand-by replica takes over without waiting for the TTL. */
  async stop(): Promise<void> {
    this.started = false;
    await this.lease.stop();
    await this.end();
  }

  health(): ChannelHealth {
    if (!this.started) return { state: 'down', detail: 'not started' };
    if (this.lease.held) return this.loopState;
    if (this.o.redis.status !== 'ready') return { state: 'down', detail: 'redis unavailable' };
    return { state: 'standby', detail: 'another replica holds the polling lease' };
  }

  private begin(): void {
    if (!this.started) {
      // Acquired by a lease check that was already running when stop() was called: hand the lease back.
      void this.lease.stop();
      return;
    }
    const controller = new AbortController();
    this.controller = controller;
    this.loopState = { state: 'connecting' };
    this.loop = this.run(controller.signal).catch((err: Error) => {
      this.o.log().error({ err: safeErr(err) }, 'telegram polling loop crashed');
      this.loopState = { state: 'down', detail: 'polling loop crashed' };
    });
  }

  /** Abort the in-flight getUpdates (and any back-off) and wait for the loop to leave. */
  private async end(): Promise<void> {
    this.controller?.abort();
    this.controller = undefined;
    const loop = this.loop;
    this.loop = undefined;
    await loop;
  }

  private async run(signal: AbortSignal): Promise<void> {
    const log = this.o.log();
    // A webhook left on the bot makes every getUpdates answer 409; polling mode means the operator wants polling.
    // Reaching Telegram counts as up: the first long poll may legitimately stay open for `timeout` seconds.
    await this.o.api.deleteWebhook({ drop_pending_updates: false }, signal as GrammySignal).then(
      () => (this.loopState = { state: 'up' }),
      (err: Error) => {
        if (!signal.aborted) log.warn({ err: safeErr(err) }, 'telegram deleteWebhook failed');
      },
    );
    let offset: number | undefined;
    let failures = 0;
    while (!signal.aborted) {
      let updates: Array<{ update_id: number }>;
      try {
        updates = await this.o.api.getUpdates(
          { offset, timeout: this.timeout, allowed_updates: [...ALLOWED_UPDATES] },
          signal as GrammySignal,
        );
        failures = 0;
        this.loopState = { state: 'up' };
      } catch (err) {
        if (signal.aborted) return;
        failures++;
        const conflict = err instanceof GrammyError && err.error_code === 409;
        const detail = conflict ? 'conflict: another getUpdates or a webhook is active' : (err as Error).message;
        this.loopState = { state: 'down', detail };
        log.warn({ failures, detail }, 'telegram getUpdates failed; backing off');
        await sleep(backoffDelay(failures, this.backoff), signal);
        continue;
      }
      for (const update of updates) {
        // Aborted mid-batch: stop without advancing; the next holder re-reads from Telegram's confirmed offset.
        if (!(await this.deliver(update, signal))) return;
        offset = update.update_id + 1;
      }
    }
  }

  /** Hand one update to the sink until it is taken; false when polling was stopped first. */
  private async deliver(update: { update_id: number }, signal: AbortSignal): Promise<boolean> {
    for (let attempt = 1; !signal.aborted; attempt++) {
      try {
        await this.o.handle(update);
        return true;
      } catch (err) {
        if (err instanceof IngressError) {
          // Retrying cannot fix a malformed update; skipping it is the only way past it.
          this.o.log().warn({ update_id: update.update_id, err: safeErr(err) }, 'malformed telegram update skipped');
          return true;
        }
        this.o
          .log()
          .warn({ update_id: update.update_id, attempt, err: safeErr(err) }, 'telegram update not submitted; retrying');
        await sleep(backoffDelay(attempt, this.backoff), signal);
      }
    }
    return false;
  }
}
