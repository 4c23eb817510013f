/**
 * Requests that wait for something another process finishes (a turn's delivery, an agent run), woken over Redis
 * pub/sub. Pub/sub is only a latency aid: a waiter may also poll the durable state, so a lost message costs at
 * most one poll interval, and every wait ends after its timeout. One subscriber connection per process and channel.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { safeErr } from './safe-error.js';

export interface WaitHandle<T> {
  /** The value, or null after the timeout, on cancel, or when the process is stopping. */
  promise: Promise<T | null>;
  cancel(): void;
}

export class PubSubWaiters<T> {
  private readonly waiters = new Map<string, Set<(value: T | null) => void>>();
  private sub: Redis | undefined;
  private closingFlag = false;

  /** `parse` turns a message into the ids it wakes and the value they get (null: not ours, ignored). */
  constructor(
    readonly channel: string,
    protected readonly log: Logger,
    private readonly parse: (message: string) => { ids: string[]; value: T } | null,
  ) {}

  /** `redis` must be a dedicated connection: it enters subscriber mode. */
  async start(redis: Redis): Promise<void> {
    this.sub = redis;
    redis.on('message', (_ch: string, msg: string) => {
      let parsed: { ids: string[]; value: T } | null = null;
      try {
        parsed = this.parse(msg);
      } catch {
        return; // not ours
      }
      for (const id of parsed?.ids ?? []) for (const fn of [...(this.waiters.get(id) ?? [])]) fn(parsed!.value);
    });
    await redis.subscribe(this.channel);
  }

  /**
   * Wait for `id`. Register BEFORE starting the work it waits for, so a fast finish cannot be missed. `poll`, if
   * given, reads the durable state every `pollEveryMs` (the value once there is one, null while still waiting).
   */
  wait(id: string, timeoutMs: number, poll?: () => Promise<T | null>, pollEveryMs = 2_000): WaitHandle<T> {
    // Shutting down: answer at once, so a long wait cannot hold the HTTP server's close open.
    if (this.closingFlag) return { promise: Promise.resolve(null), cancel: () => undefined };
    let settle!: (value: T | null) => void;
    let settled = false;
    const promise = new Promise<T | null>((resolve) => (settle = resolve));
    const set = this.waiters.get(id) ?? new Set();
    this.waiters.set(id, set);
    const finish = (value: T | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (poller) clearInterval(poller);
      set.delete(finish);
      if (!set.size && this.waiters.get(id) === set) this.waiters.delete(id);
      settle(value);
    };
    set.add(finish);
    const timer = setTimeout(() => finish(null), timeoutMs);
    const poller =
      poll &&
      setInterval(() => {
        poll().then(
          (v) => v !== null && finish(v),
          (err: Error) => this.log.debug({ err: safeErr(err) }, 'wait poll failed'),
        );
      }, pollEveryMs);
    return { promise, cancel: () => finish(null) };
  }

  /** Ids being waited for. */
  get size(): number {
    return this.waiters.size;
  }

  /** True once `release()` ran: waits answer null because the process is stopping, not because of a timeout. */
  get closing(): boolean {
    return this.closingFlag;
  }

  /** Wake every waiter with null and refuse new waits (before an HTTP server's close waits for open requests). */
  release(): void {
    this.closingFlag = true;
    for (const set of [...this.waiters.values()]) for (const fn of [...set]) fn(null);
    this.waiters.clear();
  }

  async stop(): Promise<void> {
    this.release();
    await this.sub?.quit().catch(() => this.log.debug('subscriber already closed'));
    this.sub = undefined;
  }
}
