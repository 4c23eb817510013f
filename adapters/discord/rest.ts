/**
 * One discord.js REST client per adapter, pointed at `apiUrl` (so tests and local runs use a loopback fake).
 * The client queues per route bucket and waits out 429s itself; a wait longer than `maxRateLimitWaitMs` is turned
 * into a rejection instead, so a worker hands the part back to the outbound queue rather than blocking for minutes.
 */
import { REST, type RateLimitData } from 'discord.js';

export interface DiscordRestOptions {
  token: string;
  /** Base URL without version, e.g. `https://discord.com/api` (default) or `http://127.0.0.1:4020/api`. */
  apiUrl?: string;
  maxRateLimitWaitMs?: number;
  /** Per-request timeout; the REST client retries timeouts and resets (sends stay idempotent via `nonce`). */
  timeoutMs?: number;
}

export const DEFAULT_API_URL = 'https://discord.com/api';

export function createRest(opts: DiscordRestOptions): REST {
  const maxWait = opts.maxRateLimitWaitMs ?? 10_000;
  return new REST({
    api: opts.apiUrl ?? DEFAULT_API_URL,
    version: '10',
    timeout: opts.timeoutMs ?? 15_000,
    rejectOnRateLimit: (data: RateLimitData) => Math.max(data.retryAfter, data.timeToReset) > maxWait,
  }).setToken(opts.token);
}

/**
 * A REST error reduced to what may be logged: interaction webhook URLs carry the interaction token and
 * request bodies carry user text, so neither `url` nor `requestBody` ever reaches a log line.
 */
export function describeRestError(err: unknown, ...secrets: string[]): { message: string; status?: number; code?: number | string } {
  const e = err as { message?: unknown; status?: unknown; code?: unknown };
  let message = typeof e?.message === 'string' ? e.message : String(err);
  for (const s of secrets) if (s) message = message.split(s).join('[redacted]');
  return {
    message,
    ...(typeof e?.status === 'number' ? { status: e.status } : {}),
    ...(typeof e?.code === 'number' || typeof e?.code === 'string' ? { code: e.code } : {}),
  };
}
