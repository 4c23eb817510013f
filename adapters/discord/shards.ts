/**
 * Who holds which gateway connection. The shard count comes from `DISCORD_SHARD_COUNT`, else from Discord's
 * recommendation (`GET /gateway/bot`, asked again with backoff until it answers); the first replica stores it in
 * Redis and the others run what is stored (an override is stored by whoever has it), so replicas agree. A stored
 * count that changes (an override rolled out, or a 4011 "sharding required" mid-run, which re-asks Discord and
 * stores the larger count) is applied by every replica without a restart: each closes its connections and gives
 * its leases back, and claims shards of the new count only once no lease of the old count is left anywhere (never
 * two connections for one shard, whichever count). One shard: one connection per
 * token held by a single lease, as before. More: each shard is a discord.js client with explicit `shards: [id]` and
 * `shardCount` (so @discordjs/ws's WebSocketManager runs exactly that shard), held through a shard lease
 * (src/queue/shard-leases.ts) that spreads the shards evenly over the replicas running; identifies wait for a
 * Redis slot per `max_concurrency` bucket (identify.ts). Every shard feeds the same message handler.
 */
import type { REST } from '@discordjs/rest';
import { Routes } from 'discord-api-types/v10';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ChannelHealth, ShardHealth } from '../../src/core/adapter.js';
import { safeErr } from '../../src/observability/logger.js';
import { shardLatencySeconds, shardResumes, shardsHeld } from '../../src/observability/metrics.js';
import { RedisLease } from '../../src/queue/lease.js';
import { shardLeaseKeys, type ShardLeaseKeys } from '../../src/queue/keys.js';
import { ShardLeases } from '../../src/queue/shard-leases.js';
import { backoffDelay, sleep } from '../kit/backoff.js';
import { DiscordGateway, FATAL_CLOSE_CODES, type GatewayOptions } from './gateway.js';
import { redisIdentifyThrottle } from './identify.js';

export interface ShardPlan {
  count: number;
  maxConcurrency: number;
}

/** Discord's recommendation, or the override (max_concurrency is always Discord's). */
export async function fetchShardPlan(rest: REST, override?: number): Promise<ShardPlan> {
  const info = (await rest.get(Routes.gatewayBot())) as {
    shards?: number;
    session_start_limit?: { max_concurrency?: number };
  };
  return {
    count: override ?? Math.max(1, info.shards ?? 1),
    maxConcurrency: Math.max(1, info.session_start_limit?.max_concurrency ?? 1),
  };
}

const storedCount = (v: string | null): number | undefined => {
  const n = Number(v);
  return v !== null && Number.isInteger(n) && n >= 1 ? n : undefined;
};

export interface ConnectionsOptions {
  redis: Redis;
  rest: REST;
  keyPrefix: string;
  token: string;
  /** The single-connection lease (one shard). */
  leaseKey: string;
  leaseTtlMs?: number;
  shardCount?: number;
  /** Identify window per max_concurrency bucket (Discord: 5 s; tests shorten it). */
  identifyWindowMs?: number;
  gateway: Omit<GatewayOptions, 'shard' | 'identifyThrottle' | 'onMessage' | 'log'>;
  onMessage: GatewayOptions['onMessage'];
  log: Logger;
}

export class DiscordConnections {
  private running = false;
  private plan: ShardPlan | undefined;
  private planError: string | undefined;
  private readonly abort = new AbortController();
  private single: { lease: RedisLease; gateway: DiscordGateway } | undefined;
  private sharded: ShardLeases | undefined;
  private readonly gateways = new Map<number, DiscordGateway>();
  private readonly resumesSeen = new Map<number, number>();
  private sampler: NodeJS.Timeout | undefined;
  private watcher: NodeJS.Timeout | undefined;
  private starting: Promise<void> | undefined;
  private following: Promise<void> | undefined;
  /** The count being moved to while the connections of the old one close. */
  private resharding: number | undefined;
  private resizing = false;
  private readonly keys: ShardLeaseKeys;

  constructor(private readonly o: ConnectionsOptions) {
    this.keys = shardLeaseKeys(o.keyPrefix, 'discord', o.token);
  }

  /** Returns at once; the plan is resolved and the leases contended in the background. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.starting = this.begin().catch((err) => this.o.log.error({ err: safeErr(err) }, 'discord shards failed'));
    this.sampler = setInterval(() => this.sample(), 2_000);
    this.sampler.unref?.();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.abort.abort();
    clearInterval(this.sampler);
    clearInterval(this.watcher);
    await this.starting;
    await this.following;
    await this.stopConnections();
    this.sample();
  }

  /** Close every connection here and give its lease back. */
  private async stopConnections(): Promise<void> {
    const { single, sharded } = this;
    this.single = undefined;
    this.sharded = undefined;
    await single?.lease.stop();
    await single?.gateway.stop();
    await sharded?.stop();
    for (const g of this.gateways.values()) await g.stop();
    this.gateways.clear();
  }

  private async begin(): Promise<void> {
    for (let attempt = 1; this.running; attempt++) {
      try {
        this.plan = await fetchShardPlan(this.o.rest, this.o.shardCount);
        this.planError = undefined;
        break;
      } catch (err) {
        if (this.o.shardCount === 1) {
          this.plan = { count: 1, maxConcurrency: 1 }; // one shard needs no recommendation
          break;
        }
        // A refused token cannot get better by asking again soon: say what to change, ask again much later.
        const fatal = (err as { status?: number }).status === 401 ? FATAL_CLOSE_CODES[4004] : undefined;
        const delay = fatal
          ? (this.o.gateway.fatalRetryMs ?? 10 * 60_000)
          : backoffDelay(attempt, { initialMs: 1000, maxMs: 60_000 });
        this.planError = `${fatal ?? `shard count unknown (GET /gateway/bot failed: ${(err as Error).message})`}; retrying in ${Math.round(delay / 1000)} s`;
        if (fatal) this.o.log.error({ retryInMs: delay }, `discord gateway down: ${fatal}`);
        else this.o.log.warn({ err: safeErr(err), retryInMs: delay }, 'discord shard count unknown, retrying');
        await sleep(delay, this.abort.signal);
      }
    }
    if (!this.running || !this.plan) return;
    const { count, previous } = await this.agree(this.plan.count);
    this.plan = { ...this.plan, count };
    this.o.log.info({ shards: count, maxConcurrency: this.plan.maxConcurrency }, 'discord shard plan');
    // This replica changed the count (an override rolled out): the others reshard, and it waits like they do.
    if (previous !== undefined && previous !== count) await this.oldLeasesGone(previous);
    if (!this.running) return;
    this.run(count);
    const every = Math.min(2_000, Math.max(200, Math.floor((this.o.leaseTtlMs ?? 15_000) / 3)));
    this.watcher = setInterval(() => void this.follow(), every);
    this.watcher.unref?.();
  }

  private run(count: number): void {
    if (count === 1) this.startSingle();
    else this.startSharded({ count, maxConcurrency: this.plan!.maxConcurrency });
  }

  /**
   * The count every replica runs: an override is stored as is; else the first replica's proposal stands. With it,
   * the count stored before an override replaced it.
   */
  private async agree(proposed: number): Promise<{ count: number; previous?: number }> {
    try {
      let previous: number | undefined;
      if (this.o.shardCount)
        previous = storedCount(await this.o.redis.set(this.keys.count, String(this.o.shardCount), 'GET'));
      else await this.o.redis.set(this.keys.count, String(proposed), 'NX');
      return { count: storedCount(await this.o.redis.get(this.keys.count)) ?? proposed, previous };
    } catch (err) {
      this.o.log.warn({ err: safeErr(err) }, 'discord shard count not shared (redis), running the proposal');
      return { count: proposed };
    }
  }

  /** Leases of another count do not exclude each other: wait until every one of `count` is given back or expired. */
  private async oldLeasesGone(count: number): Promise<void> {
    const old = count === 1 ? [this.o.leaseKey] : Array.from({ length: count }, (_, i) => this.keys.lease(i, count));
    while (this.running && (await this.o.redis.exists(...old).catch(() => 1)) > 0) await sleep(200, this.abort.signal);
  }

  /** Apply a stored count that differs from the one running here (one pass at a time). */
  private follow(): Promise<void> {
    this.following ??= this.followOnce().finally(() => {
      this.following = undefined;
      this.resharding = undefined;
    });
    return this.following;
  }

  private async followOnce(): Promise<void> {
    if (!this.running || !this.plan) return;
    const stored = storedCount(await this.o.redis.get(this.keys.count).catch(() => null));
    if (stored === undefined || stored === this.plan.count) return;
    this.resharding = stored;
    await this.reshard(this.plan.count, stored);
  }

  private async reshard(from: number, to: number): Promise<void> {
    this.o.log.info({ from, to }, 'discord shard count changed: resharding');
    await this.stopConnections();
    this.sample();
    await this.oldLeasesGone(from);
    if (!this.running) return;
    this.plan = { ...this.plan!, count: to };
    this.run(to);
  }

  /** Close 4011 (the bot outgrew its shards): ask Discord again, store the larger count once, let all follow. */
  private async shardingRequired(): Promise<void> {
    if (this.resizing || !this.running || !this.plan) return;
    this.resizing = true;
    const current = this.plan.count;
    try {
      const recommended = (await fetchShardPlan(this.o.rest)).count;
      const next = recommended > current ? recommended : current * 2;
      // Every replica seeing the 4011 computes the same next count from the same current one; the first stores it.
      if ((storedCount(await this.o.redis.get(this.keys.count)) ?? current) === current) {
        await this.o.redis.set(this.keys.count, String(next));
        this.o.log.warn({ from: current, to: next }, 'discord: sharding required (close 4011), new shard count stored');
      }
      await this.follow();
    } catch (err) {
      this.o.log.error({ err: safeErr(err) }, 'discord: sharding required (close 4011) but resharding failed');
    } finally {
      this.resizing = false;
    }
  }

  private newGateway(extra: Partial<GatewayOptions> = {}): DiscordGateway {
    return new DiscordGateway({
      ...this.o.gateway,
      log: this.o.log,
      onMessage: this.o.onMessage,
      onShardingRequired: () => void this.shardingRequired(),
      ...extra,
    });
  }

  private startSingle(): void {
    const gateway = this.newGateway();
    // onAcquired must return at once: the lease renews only after it returns, and a login can take seconds.
    const lease: RedisLease = new RedisLease(
      this.o.redis,
      this.o.leaseKey,
      {
        onAcquired: () => (this.running && this.single?.lease === lease ? gateway.start() : undefined),
        onLost: () => gateway.stop(),
      },
      this.o.log,
      this.o.leaseTtlMs ? { ttlMs: this.o.leaseTtlMs } : {},
    );
    this.single = { lease, gateway };
    lease.start();
  }

  private startSharded(plan: ShardPlan): void {
    const keys = this.keys;
    const leases: ShardLeases = new ShardLeases(
      this.o.redis,
      keys,
      plan.count,
      {
        onAcquired: (id) => {
          const log = this.o.log.child({ shard: id });
          const gateway = this.newGateway({
            log,
            shard: { id, count: plan.count },
            identifyThrottle: throttle,
            // The fence, checked where it matters: a shard whose lease may have lapsed submits nothing.
            onMessage: (message, botId) => (leases.isValid(id) ? this.o.onMessage(message, botId) : Promise.resolve()),
          });
          this.gateways.set(id, gateway);
          gateway.start();
        },
        onReleased: async (id) => {
          const gateway = this.gateways.get(id);
          this.gateways.delete(id);
          await gateway?.stop(); // closed before the lease is deleted: never two connections for one shard
          this.sample();
        },
      },
      this.o.log,
      this.o.leaseTtlMs ? { ttlMs: this.o.leaseTtlMs } : {},
    );
    const throttle = redisIdentifyThrottle({
      redis: this.o.redis,
      keys,
      maxConcurrency: plan.maxConcurrency,
      holds: (id) => leases.confirm(id),
      ...(this.o.identifyWindowMs ? { windowMs: this.o.identifyWindowMs } : {}),
    });
    this.sharded = leases;
    leases.start();
  }

  /** Per shard held here: state, heartbeat latency, resumes, fence. */
  shardHealth(): ShardHealth[] {
    if (this.single) {
      if (!this.single.lease.held) return [];
      return [{ id: 0, ...this.single.gateway.health(), ...this.single.gateway.stats() }];
    }
    return [...this.gateways.entries()]
      .sort(([a], [b]) => a - b)
      .map(([id, g]) => ({ id, ...g.health(), ...g.stats(), fence: this.sharded?.fenceOf(id) }));
  }

  health(): ChannelHealth {
    if (!this.running) return { state: 'down', detail: 'not started' };
    if (!this.plan) {
      if (this.planError) return { state: 'down', detail: this.planError };
      return { state: 'connecting', detail: 'asking Discord for the shard count' };
    }
    if (this.resharding) {
      const detail = `resharding from ${this.plan.count} to ${this.resharding} shards`;
      return { state: 'connecting', detail, shardCount: this.plan.count, shards: [] };
    }
    if (this.single) {
      if (!this.single.lease.held)
        return { state: 'standby', detail: 'another process holds the gateway lease', shardCount: 1, shards: [] };
      return { ...this.single.gateway.health(), shardCount: 1, shards: this.shardHealth() };
    }
    const shards = this.shardHealth();
    const replicas = this.sharded?.replicas ?? 0;
    const of = `of ${this.plan.count}, ${replicas} replica(s)`;
    if (shards.length === 0)
      return { state: 'standby', detail: `no shard held (${of})`, shardCount: this.plan.count, shards };
    const notUp = shards.filter((s) => s.state !== 'up');
    const state = notUp.length === 0 ? 'up' : notUp.some((s) => s.state === 'down') ? 'down' : 'connecting';
    const detail = `shards ${shards.map((s) => s.id).join(',')} held (${of})`;
    return { state, detail, shardCount: this.plan.count, shards };
  }

  /** Metrics: shards held here, their latency, resumes since the last sample. */
  private sample(): void {
    const shards = this.running ? this.shardHealth() : [];
    shardsHeld.set({ platform: 'discord' }, shards.length);
    const ids = new Set(shards.map((s) => s.id));
    for (const id of [...this.resumesSeen.keys()]) {
      if (ids.has(id)) continue;
      this.resumesSeen.delete(id);
      shardLatencySeconds.remove({ platform: 'discord', shard: String(id) });
    }
    for (const s of shards) {
      const labels = { platform: 'discord', shard: String(s.id) };
      if (s.latencyMs !== null && s.latencyMs !== undefined) shardLatencySeconds.set(labels, s.latencyMs / 1000);
      const seen = this.resumesSeen.get(s.id) ?? 0;
      if ((s.resumes ?? 0) > seen) shardResumes.inc(labels, (s.resumes ?? 0) - seen);
      this.resumesSeen.set(s.id, s.resumes ?? 0);
    }
  }
}
