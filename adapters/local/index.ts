/**
 * The local channel: talk to the bot over HTTP or from the terminal (`npm run chat`) with no platform account.
 * The first adapter, and the reference for the adapter contract.
 */
import type { Redis } from 'ioredis';
import type { ChannelAdapter } from '../../src/core/adapter.js';
import { splitMessage } from '../../src/outbound/split.js';
import type { DeliveryWaiters } from '../../src/outbound/notifications.js';
import { LOCAL_LIMITS } from './limits.js';
import { registerLocalRoutes } from './routes.js';
import { sendLocal } from './send.js';

export interface LocalAdapterOptions {
  redis: Redis;
  streamKey(conversation: string): string;
  /** Present in gateway processes: enables `wait: true`. */
  waiters?: DeliveryWaiters;
  apiKey?: string;
  waitTimeoutMs: number;
  /** Serve the HTTP routes (gateway processes). Workers only send. */
  routes: boolean;
}

export function createLocalAdapter(o: LocalAdapterOptions): ChannelAdapter {
  return {
    platform: 'local',
    capabilities: { threads: false, typing: false, ephemeral: false, format: 'markdown' },
    limits: LOCAL_LIMITS,
    registerRoutes: o.routes ? (http, sink) => registerLocalRoutes(http, sink, o) : undefined,
    render: (markdown) => splitMessage(markdown, LOCAL_LIMITS.maxMessageChars),
    send: (ref, part) => sendLocal(o.redis, o.streamKey(ref.channel), ref, part),
    health: () => ({ state: 'up' }),
  };
}
