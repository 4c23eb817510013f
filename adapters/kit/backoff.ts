/** Exponential back-off with jitter, and a sleep that an AbortSignal cuts short (so stop() never waits it out). */

export interface Backoff {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 500, maxMs: 30_000 };

/** attempt 1 -> about initialMs, doubling up to maxMs; jitter (50-100 %) keeps replicas from retrying in step. */
export function backoffDelay(attempt: number, b: Backoff): number {
  const base = Math.min(b.maxMs, b.initialMs * 2 ** Math.min(Math.max(attempt, 1) - 1, 16));
  return Math.round(base * (0.5 + Math.random() / 2));
}

/** `ms` spread by up to ±`spread` (a fraction), so replicas retrying after the same event do not retry in step. */
export function jitter(ms: number, spread: number): number {
  return ms * (1 - spread + Math.random() * 2 * spread);
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
