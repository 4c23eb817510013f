/**
 * "This turn has been delivered" notifications over Redis pub/sub. The outbound stage publishes one per turn
 * (also for silent turns and permanent failures); ingress processes subscribe so the local channel's `wait: true`
 * (and later the agent API) can answer once the turn that consumed a message has replied. Pub/sub is only a
 * latency aid: the durable record is the outbox and receipts in the database.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

export interface Delivered {
  turnId: string;
  conversationKey: string;
  eventIds: string[];
  outcome: string;
  /** The rendered parts as sent, in order. */
  parts: string[];
}

/**
 * Deliveries into a channel that replays them (the local channel's `replaysDeliveries`) are also kept an hour, so
 * a client retrying `wait: true` with the same id gets them.
 */
const RECENT_TTL_SECONDS = 3_600;
export const recentDeliveryKey = (channel: string, eventId: string) => `${channel}:recent:${eventId}`;

export async function publishDelivered(
  redis: Redis, channel: string, d: Delivered, keepRecent: boolean,
): Promise<void> {
  const json = JSON.stringify(d);
  if (keepRecent) {
    const m = redis.multi();
    for (const id of d.eventIds) m.set(recentDeliveryKey(channel, id), json, 'EX', RECENT_TTL_SECONDS);
    await m.publish(channel, json).exec();
    return;
  }
  await redis.publish(channel, json);
}

/** The delivery of the turn that consumed this event (a channel that replays deliveries), within the last hour. */
export async function recentDelivery(redis: Redis, channel: string, eventId: string): Promise<Delivered | null> {
  const json = await redis.get(recentDeliveryKey(channel, eventId));
  return json ? (JSON.parse(json) as Delivered) : null;
}

export class DeliveryWaiters {
  private readonly waiters = new Map<string, Set<(d: Delivered) => void>>();
  private sub: Redis | undefined;

  constructor(readonly channel: string, private readonly log: Logger) {}

  /** A delivery that already happened (a client retrying with the same id): see publishDelivered. */
  recent(redis: Redis, eventId: string): Promise<Delivered | null> {
    return recentDelivery(redis, this.channel, eventId);
  }

  /** `redis` must be a dedicated connection: it enters subscriber mode. */
  async start(redis: Redis): Promise<void> {
    this.sub = redis;
    redis.on('message', (_ch: string, msg: string) => {
      let d: Delivered;
      try {
        d = JSON.parse(msg) as Delivered;
      } catch {
        return;
      }
      for (const id of d.eventIds) this.waiters.get(id)?.forEach((fn) => fn(d));
    });
    await redis.subscribe(this.channel);
  }

  /**
   * Resolves with the delivery of the turn that consumed `eventId`, or null after `timeoutMs`. Register BEFORE
   * submitting the event, so a fast turn cannot be missed.
   */
  waitFor(eventId: string, timeoutMs: number): { promise: Promise<Delivered | null>; cancel(): void } {
    let done!: (d: Delivered | null) => void;
    const promise = new Promise<Delivered | null>((resolve) => (done = resolve));
    const set = this.waiters.get(eventId) ?? new Set();
    this.waiters.set(eventId, set);
    const cleanup = () => {
      clearTimeout(timer);
      set.delete(fn);
      if (!set.size) this.waiters.delete(eventId);
    };
    const fn = (d: Delivered) => {
      cleanup();
      done(d);
    };
    const timer = setTimeout(() => {
      cleanup();
      done(null);
    }, timeoutMs);
    set.add(fn);
    return { promise, cancel: () => { cleanup(); done(null); } };
  }

  get size(): number {
    return this.waiters.size;
  }

  async stop(): Promise<void> {
    for (const set of this.waiters.values()) set.clear();
    this.waiters.clear();
    await this.sub?.quit().catch(() => this.log.debug('subscriber already closed'));
  }
}
