/**
 * Errors adapters throw from `send`, so the outbound stage can tell "wait and retry the same part" from
 * "this conversation is gone" from "try again later". Anything else is treated as transient.
 */
export class RateLimitedError extends Error {
  constructor(
    readonly retryAfterMs: number,
    message = `rate limited, retry after ${retryAfterMs} ms`,
  ) {
    super(message);
    this.name = 'RateLimitedError';
  }
}

export type PermanentReason = 'blocked' | 'not_found' | 'forbidden' | 'invalid';

/** The platform says this send can never succeed (user blocked the bot, channel deleted, bot removed). */
export class PermanentSendError extends Error {
  constructor(
    readonly reason: PermanentReason,
    message: string,
  ) {
    super(message);
    this.name = 'PermanentSendError';
  }
}

/** Raised at ingress for input we refuse; `status` is the HTTP status the caller gets. */
export class IngressError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 413 | 415 | 429 | 503,
    message: string,
  ) {
    super(message);
    this.name = 'IngressError';
  }
}
