/**
 * "Make Redis mirror the database" loops (database rows -> BullMQ job schedulers), run by one process at a time
 * under a Redis lease: at start-up, every `everyMs`, and whenever the lease is (re)acquired — which is also what
 * happens right after a Redis flush, since the flush deletes the lease key. Two processes reconciling at once
 * would race each other's snapshots (one removing what the other just added); the lease rules that out.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { RedisLease } from './lease.js';
import { safeErr } from '../core/safe-error.js';

export interface LeasedReconcilerOptions<R> {
  redis: Redis;
  leaseKey: string;
  everyMs: number;
  leaseTtlMs?: number;
  log: Logger;
  /** For log lines ("<what> reconcile failed"). */
  what: string;
  /** One pass. `keepGoing` turns false once the lease is lost: a long pass checks it and stops early. */
  pass(keepGoing: () => boolean): Promise<R>;
  /** After a pass that did not throw (e.g. log its report). */
  onPass?(report: R): void;
}

/** Start contending for the lease; returns the stop function (waits for a pass in flight). */
export function startLeasedReconciler<R>(o: LeasedReconcilerOptions<R>): () => Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let holding = false;
  let again = false;
  const pass = () => {
    if (!holding) return;
    if (running) {
      again = true; // e.g. the lease was re-acquired after a flush while a pass ran: run once more right after
      return;
    }
    again = false;
    if (timer) clearTimeout(timer);
    running = o
      .pass(() => lease.held)
      .then((r) => o.onPass?.(r))
      .catch((err: Error) => o.log.warn({ err: safeErr(err) }, `${o.what} reconcile failed; retrying next period`))
      .finally(() => {
        running = undefined;
        if (holding) {
          timer = setTimeout(pass, again ? 0 : o.everyMs);
          timer.unref?.();
        }
      });
  };
  const lease = new RedisLease(
    o.redis,
    o.leaseKey,
    {
      // Returns at once: the pass runs in the background while the lease keeps renewing.
      onAcquired: () => {
        holding = true;
        pass();
      },
      onLost: () => {
        holding = false;
        if (timer) clearTimeout(timer);
      },
    },
    o.log,
    { ttlMs: o.leaseTtlMs ?? 15_000 },
  );
  lease.start();
  return async () => {
    holding = false;
    if (timer) clearTimeout(timer);
    // The pass in flight ends while the lease is still ours: releasing first let the next holder start a pass
    // beside it (seen in CI as two passes at once on a hand-over).
    await running;
    await lease.stop();
  };
}
