/**
 * CockroachDB (and Postgres at SERIALIZABLE) abort conflicting transactions with SQLSTATE 40001 and expect the
 * client to retry the whole transaction. Every transaction in this codebase goes through `withTx` / `retrySerializable`.
 */
import pRetry, { AbortError } from 'p-retry';
import { dbRetries } from '../observability/metrics.js';

const RETRYABLE = new Set(['40001', '40P01']); // serialization failure, deadlock

function sqlState(err: unknown): string {
  const e = err as { code?: string; cause?: { code?: string } };
  return e?.code ?? e?.cause?.code ?? '';
}

export function isRetryable(err: unknown): boolean {
  return RETRYABLE.has(sqlState(err));
}

/** Transient connection failures (database restarting, network blip): worth a retry at the job level. */
export function isConnectionError(err: unknown): boolean {
  return [
    'ECONNREFUSED',
    'ECONNRESET',
    'CONNECTION_CLOSED',
    'CONNECTION_ENDED',
    'CONNECT_TIMEOUT',
    '57P01',
    '57P03',
  ].includes(sqlState(err));
}

/** Run `fn` (one whole transaction) again on 40001 / deadlock, with jittered exponential back-off. */
export async function retrySerializable<T>(fn: () => Promise<T>, retries = 12): Promise<T> {
  // The first attempt outside p-retry: almost every call succeeds at once, and p-retry's set-up (its abort
  // signal, timers, attempt records) ran on every statement of every turn for nothing.
  try {
    return await fn();
  } catch (err) {
    if (!isRetryable(err) || retries < 1) throw err;
    dbRetries.inc();
  }
  await new Promise((r) => setTimeout(r, 5 + Math.random() * 5)); // p-retry's first back-off, as before
  return pRetry(
    async () => {
      try {
        return await fn();
      } catch (err) {
        if (isRetryable(err)) throw err;
        throw new AbortError(err as Error);
      }
    },
    {
      retries: retries - 1,
      minTimeout: 5,
      maxTimeout: 500,
      factor: 2,
      randomize: true,
      onFailedAttempt: () => dbRetries.inc(),
    },
  );
}
