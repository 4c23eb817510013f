/**
 * Numbered leases (shards 0..count-1) spread evenly over however many replicas run. Each replica announces itself in
 * a sorted set (score: when its presence expires) and, from the sorted list of live replicas, works out its own
 * quota: `floor(count / n)`, plus one for the first `count % n` replicas. It renews what it holds, gives back what
 * exceeds its quota and claims free shards up to it. Every replica computes the same quotas, so the shares converge
 * in a tick or two after a replica joins or dies.
 *
 * Never two holders of one shard: a lease is a `SET NX PX` key with this replica's token. A replica giving a shard
 * up stops the guarded work first (`onReleased` returns once its connection is closed) and only then deletes the
 * key, so the next holder can acquire only after the previous one has let go. A holder that cannot renew (Redis
 * away, or its process stalled past the TTL) treats the shard as lost at once; `isValid` lets the guarded work check
 * its lease locally (it ends at the last successful renewal's start + TTL) before each side effect. Every
 * acquisition takes a fresh number from a per-shard counter (the fencing token), shown in health.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { safeErr } from '../core/safe-error.js';
import type { ShardLeaseKeys } from './keys.js';
import { type LeaseOptions, acquireLease, holdsLease, leaseTiming, releaseLease, renewLease } from './lease.js';

export interface ShardLeaseHandlers {
  /** This replica now holds `shard` (fence: its fencing token). Return quickly: the tick waits for it. */
  onAcquired(shard: number, fence: number): Promise<void> | void;
  /** Stop the work of `shard`; resolve once it has stopped (the lease is deleted only afterwards). */
  onReleased(shard: number, reason: string): Promise<void> | void;
}

/** intervalMs: how often to renew, rebalance and claim. */
export type ShardLeaseOptions = LeaseOptions;

interface Held {
  fence: number;
  /** Local end of the lease: start of the last successful renewal (or acquisition) + TTL. */
  validUntil: number;
}

/** The quota of the replica at `index` among `replicas` live ones, for `count` shards. */
export function quotaOf(count: number, replicas: number, index: number): number {
  if (replicas <= 0 || index < 0) return 0;
  return Math.floor(count / replicas) + (index < count % replicas ? 1 : 0);
}

export class ShardLeases {
  readonly replicaId = randomUUID();
  private readonly held = new Map<number, Held>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private ticking: Promise<void> | undefined;
  private readonly ttlMs: number;
  private readonly intervalMs: number;
  /** Live replicas seen on the last tick (for health). */
  replicas = 0;

  constructor(
    private readonly redis: Redis,
    private readonly keys: ShardLeaseKeys,
    readonly count: number,
    private readonly handlers: ShardLeaseHandlers,
    private readonly log: Logger,
    opts: ShardLeaseOptions = {},
  ) {
    ({ ttlMs: this.ttlMs, intervalMs: this.intervalMs } = leaseTiming(opts));
  }

  /** Shards held now, ascending. */
  shards(): number[] {
    return [...this.held.keys()].sort((a, b) => a - b);
  }

  fenceOf(shard: number): number | undefined {
    return this.held.get(shard)?.fence;
  }

  /** True while this replica's lease on `shard` cannot have expired (checked locally, no round trip). */
  isValid(shard: number): boolean {
    const h = this.held.get(shard);
    return !!h && Date.now() < h.validUntil;
  }

  /** Does Redis still show this replica as the holder of `shard`? (Checked before a connection identifies.) */
  async confirm(shard: number): Promise<boolean> {
    if (!this.isValid(shard)) return false;
    return holdsLease(this.redis, this.keys.lease(shard, this.count), this.token(shard));
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /** Give every shard back (work stopped first), leave the replica set. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.ticking;
    for (const shard of this.shards()) await this.release(shard, 'stopping');
    await this.redis.zrem(this.keys.replicas, this.replicaId).catch(() => undefined);
  }

  private token(shard: number): string {
    return `${this.replicaId}:${this.held.get(shard)?.fence ?? 0}`;
  }

  private schedule(delay: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.ticking = this.tick().finally(() => {
        this.ticking = undefined;
        this.schedule(this.intervalMs);
      });
    }, delay);
    this.timer.unref?.();
  }

  private async tick(): Promise<void> {
    const started = Date.now();
    // A stalled process (long GC, paused container) must not act on leases that may already belong to another.
    for (const [shard, h] of this.held) if (started >= h.validUntil) await this.lose(shard, 'lease expired locally');
    let live: string[];
    try {
      const res = await this.redis
        .multi()
        .zadd(this.keys.replicas, started + this.ttlMs, this.replicaId)
        .zremrangebyscore(this.keys.replicas, '-inf', started)
        .zrange(this.keys.replicas, '0', '-1')
        .exec();
      live = (res?.[2]?.[1] as string[] | undefined) ?? [];
      for (const shard of this.shards()) {
        const ok = await renewLease(this.redis, this.keys.lease(shard, this.count), this.token(shard), this.ttlMs);
        if (ok) this.held.get(shard)!.validUntil = started + this.ttlMs;
        else await this.lose(shard, 'renewal refused (another holder or expired)');
      }
    } catch (err) {
      this.log.warn({ err: safeErr(err) }, 'shard lease check failed');
      for (const shard of this.shards()) await this.lose(shard, 'redis unreachable');
      return;
    }
    if (!this.running) return;
    this.replicas = live.length;
    const index = live.sort().indexOf(this.replicaId);
    const quota = quotaOf(this.count, live.length, index);
    try {
      // Over quota (a replica joined): give back the highest shards; the newcomer claims them on its next tick.
      for (const shard of this.shards()
        .reverse()
        .slice(0, Math.max(0, this.held.size - quota))) {
        await this.release(shard, 'rebalancing');
      }
      if (this.held.size < quota) await this.claim(quota, live.length, index);
    } catch (err) {
      this.log.warn({ err: safeErr(err) }, 'shard rebalance failed');
    }
  }

  /** Claim free shards up to `quota`, this replica's "own" ones (id % n == index) first to avoid contention. */
  private async claim(quota: number, replicas: number, index: number): Promise<void> {
    const all = Array.from({ length: this.count }, (_, i) => i).filter((i) => !this.held.has(i));
    const order = [...all.filter((i) => i % replicas === index), ...all.filter((i) => i % replicas !== index)];
    for (const shard of order) {
      if (this.held.size >= quota || !this.running) return;
      const fence = await this.redis.incr(this.keys.fence(shard));
      const token = `${this.replicaId}:${fence}`;
      const at = Date.now();
      if (!(await acquireLease(this.redis, this.keys.lease(shard, this.count), token, this.ttlMs))) continue;
      this.held.set(shard, { fence, validUntil: at + this.ttlMs });
      this.log.info({ shard, count: this.count, fence }, 'shard lease acquired');
      try {
        await this.handlers.onAcquired(shard, fence);
      } catch (err) {
        this.log.error({ shard, err: safeErr(err) }, 'shard start failed');
        await this.release(shard, 'start failed');
      }
    }
  }

  /** Stop the shard's work, then delete its lease (only if still ours), so a successor can take it. */
  private async release(shard: number, reason: string): Promise<void> {
    const token = this.token(shard);
    await this.lose(shard, reason);
    // Best effort: it expires within the TTL anyway.
    await releaseLease(this.redis, this.keys.lease(shard, this.count), token).catch(() => undefined);
  }

  private async lose(shard: number, reason: string): Promise<void> {
    if (!this.held.delete(shard)) return;
    this.log.info({ shard, count: this.count, reason }, 'shard lease given up');
    try {
      await this.handlers.onReleased(shard, reason);
    } catch (err) {
      this.log.error({ shard, err: safeErr(err) }, 'shard stop failed');
    }
  }
}
