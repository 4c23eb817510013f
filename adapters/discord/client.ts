/**
 * One discord.js REST client per adapter, pointed at `apiUrl` (so tests and local runs use a loopback fake).
 * The client queues per route bucket and waits out 429s itself; a wait longer than `maxRateLimitWaitMs` is turned
 * into a rejection instead, so a worker hands the part back to the outbound queue rather than blocking for minutes.
 */
import { REST, type RateLimitData } from '@discordjs/rest';
import { allowlist, fetchFromHosts } from '../../src/attachments/download.js';
import { safeErr } from '../../src/observability/logger.js';

export interface DiscordRestOptions {
  token: string;
  /** Base URL without version, e.g. `https://discord.com/api` (default) or `http://127.0.0.1:4020/api`. */
  apiUrl?: string;
  maxRateLimitWaitMs?: number;
  /** Per-request timeout; the REST client retries timeouts and resets (sends stay idempotent via `nonce`). */
  timeoutMs?: number;
}

export const DEFAULT_API_URL = 'https://discord.com/api';
/** Where attachment URLs point (signed CDN links, no auth needed): files are fetched from here only. */
export const DISCORD_FILE_HOSTS = ['cdn.discordapp.com', 'media.discordapp.net'];

/** Download a message's attachment from Discord's CDN (or the configured API's origin: a test's loopback fake). */
export function fetchDiscordFile(url: string, apiUrl: string | undefined, signal: AbortSignal): Promise<Response> {
  return fetchFromHosts(url, allowlist(DISCORD_FILE_HOSTS, apiUrl), { signal });
}

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
 * A REST error reduced to what may be logged: interaction webhook URLs carry the interaction token, request bodies
 * carry user text, and Discord's error message can quote what was sent, so only safeErr's fields (status, Discord
 * error code, method) are kept. `secrets` are cut out of whatever remains, in case one ever reaches a kept field.
 */
export function describeRestError(err: unknown, ...secrets: string[]): Record<string, unknown> {
  let json = JSON.stringify(safeErr(err) ?? {});
  for (const s of secrets) if (s) json = json.split(s).join('[redacted]');
  return JSON.parse(json) as Record<string, unknown>;
}
