/**
 * The gateway's side of live text: one dedicated subscriber connection per feed, subscribed only to the
 * conversations someone is watching (reference-counted), so a gateway never receives every conversation's tokens.
 * Subscriber mode blocks the connection for ordinary commands, hence a connection of its own.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { safeErr } from '../observability/logger.js';
import { parseLiveEvent, type LiveEvent } from './events.js';

type Listener = (e: LiveEvent) => void;

export class LiveFeed {
  private readonly listeners = new Map<string, Set<Listener>>();
  private sub: Redis | undefined;

  constructor(
    private readonly channelOf: (conversationKey: string) => string,
    private readonly log: Logger,
  ) {}

  start(sub: Redis): void {
    this.sub = sub;
    sub.on('message', (channel: string, raw: string) => {
      const set = this.listeners.get(channel);
      if (!set?.size) return;
      const e = parseLiveEvent(raw);
      if (e) for (const fn of [...set]) fn(e);
    });
  }

  get started(): boolean {
    return this.sub !== undefined;
  }

  /**
   * Calls `fn` with the conversation's live events until the returned function is called. Resolves once the
   * subscription is in place (events published before that are not seen: previews start where they join).
   */
  async watch(conversationKey: string, fn: Listener): Promise<() => void> {
    const channel = this.channelOf(conversationKey);
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
    }
    set.add(fn);
    if (set.size === 1) {
      const warn = (err: Error) => this.log.warn({ err: safeErr(err) }, 'live subscribe failed');
      await this.sub?.subscribe(channel).catch(warn);
    }
    return () => {
      if (!set.delete(fn) || set.size) return;
      this.listeners.delete(channel);
      void this.sub?.unsubscribe(channel).catch(() => undefined);
    };
  }

  async stop(): Promise<void> {
    this.listeners.clear();
    await this.sub?.quit().catch(() => undefined);
    this.sub = undefined;
  }
}
