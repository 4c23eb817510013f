/**
 * The Slack Web API client, configured so that OUR outbound stage owns retries and pacing:
 * - `retryConfig: { retries: 0 }`: no hidden retries (the SDK default retries for ~30 minutes).
 * - `rejectRateLimitedCalls: true`: a 429 is thrown at once as WebAPIRateLimitedError (with Retry-After in
 *   seconds) instead of the SDK pausing its whole request queue and retrying behind our back.
 * Errors are mapped to the pipeline's RateLimitedError / PermanentSendError here; anything else is rethrown and
 * treated as transient.
 */
import {
  LogLevel,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebClient,
  type Logger as SlackLogger,
} from '@slack/web-api';
import type { Logger } from 'pino';
import { allowlist, fetchFromHosts } from '../../src/attachments/download.js';
import { PermanentSendError, RateLimitedError, type PermanentReason } from '../../src/core/errors.js';

export const SLACK_API_URL = 'https://slack.com/api/';
/** Where `url_private` points: a file is fetched from here only, with the workspace's bot token. */
export const SLACK_FILE_HOSTS = ['files.slack.com'];

/**
 * Download a message's file (`url_private`) with the bot token. Only Slack's file host (or the configured API's
 * origin: a test's loopback fake) ever receives the token; the URL is never logged.
 */
export function fetchSlackFile(url: string, token: string, apiUrl: string, signal: AbortSignal): Promise<Response> {
  const allow = allowlist(SLACK_FILE_HOSTS, apiUrl === SLACK_API_URL ? undefined : apiUrl);
  return fetchFromHosts(url, allow, { headers: { authorization: `Bearer ${token}` }, signal });
}

/** Workspace (team id) -> bot token. One token today; per-workspace installs plug in here later. */
export type TokenLookup = (teamId: string) => string | Promise<string>;

/**
 * The SDKs log request bodies and raw Socket Mode payloads at debug level (bodies hold message text, response_urls
 * and verification tokens), so debug is dropped; info and above go to pino as plain messages.
 */
export function slackLogger(log: Logger): SlackLogger {
  let level = LogLevel.INFO;
  return {
    debug: () => undefined,
    info: (...msg: unknown[]) => log.info(msg.map(String).join(' ')),
    warn: (...msg: unknown[]) => log.warn(msg.map(String).join(' ')),
    error: (...msg: unknown[]) => log.error(msg.map(String).join(' ')),
    setLevel: (l: LogLevel) => {
      level = l === LogLevel.DEBUG ? LogLevel.INFO : l;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}

export function createWebClient(
  token: string | undefined,
  apiUrl: string,
  log: Logger,
  httpFetch?: typeof fetch,
): WebClient {
  return new WebClient(token, {
    ...(httpFetch ? { fetch: httpFetch } : {}),
    slackApiUrl: apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/`,
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 0 },
    timeout: 15_000,
    logger: slackLogger(log),
  });
}

/** One WebClient per token (each carries its own Authorization header and request queue). */
export class SlackClients {
  private readonly byToken = new Map<string, WebClient>();
  constructor(
    private readonly tokenFor: TokenLookup,
    private readonly apiUrl: string,
    private readonly log: Logger,
    private readonly httpFetch?: typeof fetch,
  ) {}

  async forTeam(teamId: string): Promise<WebClient> {
    const token = await this.tokenFor(teamId);
    let client = this.byToken.get(token);
    if (!client) {
      client = createWebClient(token, this.apiUrl, this.log, this.httpFetch);
      this.byToken.set(token, client);
    }
    return client;
  }
}

/** Slack error codes after which the same send can never succeed, with the pipeline's reason. */
const PERMANENT: Record<string, PermanentReason> = {
  channel_not_found: 'not_found',
  is_archived: 'not_found',
  thread_not_found: 'not_found',
  user_not_found: 'not_found',
  not_in_channel: 'forbidden',
  account_inactive: 'forbidden',
  invalid_auth: 'forbidden',
  not_authed: 'forbidden',
  token_revoked: 'forbidden',
  token_expired: 'forbidden',
  no_permission: 'forbidden',
  missing_scope: 'forbidden',
  access_denied: 'forbidden',
  ekm_access_denied: 'forbidden',
  team_access_not_granted: 'forbidden',
  restricted_action: 'forbidden',
  restricted_action_read_only_channel: 'forbidden',
  restricted_action_thread_only_channel: 'forbidden',
  restricted_action_non_threadable_channel: 'forbidden',
  restricted_action_thread_locked: 'forbidden',
  cannot_dm_bot: 'blocked',
  messages_tab_disabled: 'blocked',
  msg_too_long: 'invalid',
  no_text: 'invalid',
  invalid_blocks: 'invalid',
  invalid_arguments: 'invalid',
  too_many_attachments: 'invalid',
  cannot_reply_to_message: 'invalid',
};

/** Per-channel throttles Slack reports in a 200 body rather than a 429. */
const SOFT_RATE_LIMITS: Record<string, number> = {
  ratelimited: 1_000,
  rate_limited: 1_000,
  message_limit_exceeded: 60_000,
};

export function mapSlackError(err: unknown, method: string): unknown {
  if (err instanceof WebAPIRateLimitedError) {
    return new RateLimitedError(
      Math.max(0, err.retryAfter) * 1000,
      `slack ${method}: rate limited, retry after ${err.retryAfter} s`,
    );
  }
  if (err instanceof WebAPIPlatformError) {
    const code = err.data.error;
    const reason = PERMANENT[code];
    if (reason) return new PermanentSendError(reason, `slack ${method}: ${code}`);
    const wait = SOFT_RATE_LIMITS[code];
    if (wait !== undefined) return new RateLimitedError(wait, `slack ${method}: ${code}`);
  }
  return err;
}
