/**
 * The local channel: talk to the bot over HTTP or from the terminal (`npm run chat`) with no platform account.
 * The first adapter, and the reference for the adapter contract.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ChannelAdapter } from '../../src/core/adapter.js';
import type { DeliveryWaiters } from '../../src/outbound/notifications.js';
import { renderLocal } from './format.js';
import { LOCAL_LIMITS } from './limits.js';
import { LocalPolls } from './long-poll.js';
import { registerLocalRoutes } from './webhook.js';
import { sendLocal } from './send.js';
import { LiveFeed } from '../../src/live/feed.js';
import { registerLocalStream } from './stream.js';

export interface LocalAdapterOptions {
  redis: Redis;
  streamKey(conversation: string): string;
  /** Pub/sub channel on which a send announces its stream key, to wake long-polls. */
  notifyChannel: string;
  /** Opens a dedicated connection (the long-polls' subscriber). */
  connect(): Redis;
  /** Most long-polls one gateway keeps waiting (LOCAL_POLL_MAX). */
  pollMax: number;
  log: Logger;
  /** Present in gateway processes: enables `wait: true`. */
  waiters?: DeliveryWaiters;
  apiKey?: string;
  waitTimeoutMs: number;
  /** Serve the HTTP routes (gateway processes). Workers only send. */
  routes: boolean;
  /** The live channel of a conversation key (src/live): answers being written are streamed over SSE. */
  liveChannel?(conversationKey: string): string;
  /** Most bytes of one `data:` URL file (ATTACHMENT_MAX_BYTES). */
  maxAttachmentBytes?: number;
}

export function createLocalAdapter(o: LocalAdapterOptions): ChannelAdapter {
  const polls = new LocalPolls(o.notifyChannel, o.pollMax, o.log);
  const live = o.liveChannel && o.routes ? new LiveFeed(o.liveChannel, o.log) : undefined;
  return {
    platform: 'local',
    capabilities: { ephemeral: false, refusesAtIngress: true, replaysDeliveries: true },
    limits: LOCAL_LIMITS,
    registerRoutes: o.routes
      ? (http, sink) => {
          registerLocalRoutes(http, sink, { ...o, polls });
          if (live) registerLocalStream(http, live, o.apiKey);
        }
      : undefined,
    // Gateways only (start is not called in workers): the subscribers that wake long-polls and carry live text.
    start: o.routes
      ? async () => {
          live?.start(o.connect());
          await polls.start(o.connect());
        }
      : undefined,
    stop: async () => {
      await live?.stop();
      await polls.stop();
    },
    render: renderLocal,
    send: (ref, part) => sendLocal(o.redis, o.streamKey(ref.channel), o.notifyChannel, part),
    health: () => ({ state: 'up' }),
  };
}
