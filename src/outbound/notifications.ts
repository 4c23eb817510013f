/**
 * "This turn has been delivered" notifications over Redis pub/sub. The outbound stage publishes one per turn
 * (also for silent turns and permanent failures); ingress processes subscribe so the local channel's `wait: true`
 * (and later the agent API) can answer once the turn that consumed a message has replied. Pub/sub is only a
 * latency aid: the durable record is the outbox and receipts in the database.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { runScript } from '../core/scripts.js';
import { PubSubWaiters, type WaitHandle } from '../core/waiters.js';
import { recentDeliveryKey } from '../queue/keys.js';

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

export async function publishDelivered(
  redis: Redis,
  channel: string,
  d: Delivered,
  keepRecent: boolean,
): Promise<void> {
  const json = JSON.stringify(d);
  if (keepRecent) {
    const kept = d.eventIds.map((id) => recentDeliveryKey(channel, id));
    await runScript(redis, 'publish-kept', kept, [channel, json, RECENT_TTL_SECONDS]);
    return;
  }
  await redis.publish(channel, json);
}

/** The delivery of the turn that consumed this event (a channel that replays deliveries), within the last hour. */
export async function recentDelivery(redis: Redis, channel: string, eventId: string): Promise<Delivered | null> {
  const json = await redis.get(recentDeliveryKey(channel, eventId));
  return json ? (JSON.parse(json) as Delivered) : null;
}

/** Requests waiting for the delivery of the turn that consumed an event (the shared pub/sub waiters). */
export class DeliveryWaiters extends PubSubWaiters<Delivered> {
  constructor(channel: string, log: Logger) {
    super(channel, log, (msg) => {
      const d = JSON.parse(msg) as Delivered;
      return { ids: d.eventIds, value: d };
    });
  }

  /** A delivery that already happened (a client retrying with the same id): see publishDelivered. */
  recent(redis: Redis, eventId: string): Promise<Delivered | null> {
    return recentDelivery(redis, this.channel, eventId);
  }

  /**
   * Resolves with the delivery of the turn that consumed `eventId`, or null after `timeoutMs`. Register BEFORE
   * submitting the event, so a fast turn cannot be missed.
   */
  waitFor(eventId: string, timeoutMs: number): WaitHandle<Delivered> {
    return this.wait(eventId, timeoutMs);
  }
}
