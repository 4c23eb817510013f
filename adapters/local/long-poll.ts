/**
 * Long-polls on the local channel without a blocking Redis command. A blocking XREAD holds its connection for the
 * whole wait, and on the gateway's shared connection that stalls every other command behind it (ingress, leases,
 * sweeps). Instead `sendLocal` publishes the stream key on one channel, one dedicated subscriber connection per
 * gateway wakes the long-polls parked on that stream, and each reads with a plain (non-blocking) XREAD. Open
 * long-polls then cost memory, not connections, and are capped (LOCAL_POLL_MAX). Pub/sub is only a latency aid:
 * a parked long-poll also re-reads every few seconds, so a lost message (a Redis reconnect) costs one interval.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { readLocal, type LocalReply } from './send.js';

const RECHECK_MS = 5_000;

export class LocalPolls {
  private readonly parked = new Map<string, Set<() => void>>();
  private sub: Redis | undefined;
  private open = 0;
  private closing = false;

  constructor(
    readonly channel: string,
    readonly max: number,
    private readonly log: Logger,
  ) {}

  /** `sub` must be a dedicated connection: it enters subscriber mode. */
  async start(sub: Redis): Promise<void> {
    this.sub = sub;
    sub.on('message', (_ch: string, streamKey: string) => this.parked.get(streamKey)?.forEach((wake) => wake()));
    await sub.subscribe(this.channel);
  }

  /** Answer every parked long-poll now and park no more: the HTTP server's close waits for open requests. */
  release(): void {
    this.closing = true;
    for (const set of [...this.parked.values()]) for (const wake of [...set]) wake();
  }

  async stop(): Promise<void> {
    this.release();
    await this.sub?.quit().catch(() => this.log.debug('local poll subscriber already closed'));
    this.sub = undefined;
  }

  /** Long-polls waiting right now. */
  get size(): number {
    return this.open;
  }

  /**
   * Replies after `after`, waiting up to `waitMs` for the first one. Null when LOCAL_POLL_MAX long-polls are
   * already waiting and there is nothing to return yet: the caller answers at once (429) instead of waiting.
   */
  async read(redis: Redis, streamKey: string, after: string, waitMs: number): Promise<LocalReply[] | null> {
    // `$` means "what comes after now": pin it to the current last id, since the plain read may be repeated.
    const cursor = after === '$' ? await lastId(redis, streamKey) : after;
    if (waitMs <= 0 || !this.sub || this.closing) return readLocal(redis, streamKey, cursor);
    if (this.open >= this.max) {
      const rows = await readLocal(redis, streamKey, cursor);
      return rows.length ? rows : null;
    }
    this.open++;
    const deadline = Date.now() + waitMs;
    try {
      for (;;) {
        // Park before reading, so a send between the read and the wait cannot be missed.
        const parked = this.park(streamKey, Math.min(deadline - Date.now(), RECHECK_MS));
        let rows: LocalReply[];
        try {
          rows = await readLocal(redis, streamKey, cursor);
        } catch (err) {
          parked.cancel();
          throw err;
        }
        if (rows.length || this.closing || Date.now() >= deadline) {
          parked.cancel();
          return rows;
        }
        await parked.promise;
        if (this.closing) return readLocal(redis, streamKey, cursor);
      }
    } finally {
      this.open--;
    }
  }

  private park(streamKey: string, ms: number): { promise: Promise<void>; cancel(): void } {
    let done!: () => void;
    const promise = new Promise<void>((resolve) => (done = resolve));
    const set = this.parked.get(streamKey) ?? new Set();
    this.parked.set(streamKey, set);
    const wake = () => {
      clearTimeout(timer);
      set.delete(wake);
      if (!set.size && this.parked.get(streamKey) === set) this.parked.delete(streamKey);
      done();
    };
    const timer = setTimeout(wake, ms);
    set.add(wake);
    return { promise, cancel: wake };
  }
}

async function lastId(redis: Redis, streamKey: string): Promise<string> {
  const [last] = await redis.xrevrange(streamKey, '+', '-', 'COUNT', 1);
  return last?.[0] ?? '0-0';
}
