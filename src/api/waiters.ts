/**
 * Requests that wait for a run (runs/wait, join, streams) are woken by the `run-done` pub/sub message that
 * `RunService.publish` sends from whichever process finalized the run. Pub/sub is only a latency aid: every waiter
 * also polls the run's durable state, so a lost message costs at most one poll interval.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { FinalStatus, RunDone } from './run-service.js';
import { safeErr } from '../observability/logger.js';

export interface WaitHandle {
  /** The final status, or null after the timeout. */
  promise: Promise<FinalStatus | null>;
  cancel(): void;
}

export class RunWaiters {
  private readonly waiters = new Map<string, Set<(s: FinalStatus | null) => void>>();
  private sub: Redis | undefined;
  private closingFlag = false;

  constructor(private readonly channel: string, private readonly log: Logger) {}

  /** `redis` must be a dedicated connection: it enters subscriber mode. */
  async start(redis: Redis): Promise<void> {
    this.sub = redis;
    redis.on('message', (_ch: string, msg: string) => {
      try {
        const d = JSON.parse(msg) as RunDone;
        this.waiters.get(d.runId)?.forEach((fn) => fn(d.status));
      } catch {
        /* not ours */
      }
    });
    await redis.subscribe(this.channel);
  }

  /**
   * Wait for `runId` to become final. `poll` reads the durable state (null while the run is still open).
   * Register BEFORE submitting the run so a fast turn cannot be missed.
   */
  wait(runId: string, timeoutMs: number, poll: () => Promise<FinalStatus | null>, pollEveryMs = 2_000): WaitHandle {
    // Shutting down: answer at once, so a long wait cannot hold the HTTP server's close open.
    if (this.closingFlag) return { promise: Promise.resolve(null), cancel: () => undefined };
    let settle!: (s: FinalStatus | null) => void;
    let settled = false;
    const promise = new Promise<FinalStatus | null>((resolve) => (settle = resolve));
    const set = this.waiters.get(runId) ?? new Set();
    this.waiters.set(runId, set);
    const finish = (s: FinalStatus | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearInterval(poller);
      set.delete(fn);
      if (!set.size) this.waiters.delete(runId);
      settle(s);
    };
    const fn = finish;
    set.add(fn);
    const timer = setTimeout(() => finish(null), timeoutMs);
    const poller = setInterval(() => {
      poll().then((s) => s && finish(s), (err: Error) => this.log.debug({ err: safeErr(err) }, 'run poll failed'));
    }, pollEveryMs);
    return { promise, cancel: () => finish(null) };
  }

  get size(): number {
    return this.waiters.size;
  }

  /** True once `release()` ran: waits answer null because the process is stopping, not because of a timeout. */
  get closing(): boolean {
    return this.closingFlag;
  }

  /**
   * Wake every waiter (as not final) and refuse new waits. Called before the HTTP server closes: runs/wait, joins
   * and SSE streams are requests that wait for a run, and `server.close()` waits for open requests, so without
   * this a stopping gateway hangs until every run it watches is done (or API_WAIT_TIMEOUT_MS, 5 minutes).
   */
  release(): void {
    this.closingFlag = true;
    for (const set of [...this.waiters.values()]) for (const fn of [...set]) fn(null);
    this.waiters.clear();
  }

  async stop(): Promise<void> {
    this.release();
    await this.sub?.quit().catch(() => undefined);
    this.sub = undefined;
  }
}
