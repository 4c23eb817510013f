/**
 * Webhook ingress: verify the secret header, parse, durably submit, and only then answer 200. Any failure to
 * submit answers 503, so Telegram delivers the update again (it retries non-2xx answers); the event id derived
 * from update_id makes the redelivery a duplicate rather than a second turn.
 */
import { Api } from 'grammy';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { IngressSink } from '../../src/core/adapter.js';
import { IngressError } from '../../src/core/errors.js';
import { parseJson } from '../../src/ingress/json.js';
import type { DispatchResult } from './ingress.js';
import { ALLOWED_UPDATES } from './limits.js';
import type { BotIdentity } from './parse.js';
import { SECRET_HEADER, SECRET_TOKEN_PATTERN, verifySecretToken } from './verify.js';
import { safeErr } from '../../src/observability/logger.js';

export interface WebhookDeps {
  path: string;
  secret: string;
  /** The bot's id and username (needed for mention gating); undefined while getMe has never succeeded. */
  identity(): Promise<BotIdentity | undefined>;
  dispatch(body: unknown, bot: BotIdentity, sink: IngressSink): Promise<DispatchResult>;
  log(): Logger;
}

function decodeJson(raw: unknown): unknown {
  if (Buffer.isBuffer(raw) || typeof raw === 'string') return parseJson(raw);
  if (raw && typeof raw === 'object') return raw;
  throw new SyntaxError('empty body');
}

export function registerWebhookRoute(http: FastifyInstance, sink: IngressSink, deps: WebhookDeps): void {
  http.post(deps.path, webhookHandler(sink, deps));
}

/** The route's handler, also mounted per bot by a fleet (adapters/kit/fleet.ts) under its own path. */
export function webhookHandler(sink: IngressSink, deps: Omit<WebhookDeps, 'path'>) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    // Nothing is read from an unauthenticated request, not even its JSON.
    if (!verifySecretToken(req.headers[SECRET_HEADER], deps.secret))
      return reply.code(401).send({ error: 'unauthorized' });
    let body: unknown;
    try {
      body = decodeJson(req.body);
    } catch {
      return reply.code(400).send({ error: 'invalid JSON' });
    }
    const bot = await deps.identity();
    if (!bot) return reply.code(503).send({ error: 'bot identity not known yet' });
    try {
      const result = await deps.dispatch(body, bot, sink);
      deps.log().debug({ status: result.status }, 'telegram webhook update handled');
      // An empty object: a JSON answer with a "method" field would be executed by Telegram as an API call.
      return reply.code(200).send({});
    } catch (err) {
      if (err instanceof IngressError) return reply.code(err.status).send({ error: err.message });
      deps.log().error({ err: safeErr(err) }, 'telegram update not submitted; Telegram will retry');
      return reply.code(503).send({ error: 'try again' });
    }
  };
}

export interface SetWebhookOptions {
  token: string;
  /** Bot API root, e.g. a local Bot API server or a test fake; default https://api.telegram.org. */
  apiRoot?: string;
  /** Public HTTPS URL of the webhook route, e.g. https://gw.example.com/telegram/webhook. */
  url: string;
  secret: string;
  dropPendingUpdates?: boolean;
}

/** For `npm run telegram:set-webhook` (scripts/telegram-set-webhook.ts): point Telegram at our route, with the secret it must echo. */
export async function setTelegramWebhook(opts: SetWebhookOptions): Promise<void> {
  if (!SECRET_TOKEN_PATTERN.test(opts.secret))
    throw new Error('webhook secret must be 1-256 characters of A-Z, a-z, 0-9, _ and -');
  // grammY refuses an apiRoot ending in "/" (as createTelegramAdapter, strip it).
  const api = new Api(opts.token, opts.apiRoot ? { apiRoot: opts.apiRoot.replace(/\/+$/, '') } : undefined);
  await api.setWebhook(opts.url, {
    secret_token: opts.secret,
    allowed_updates: [...ALLOWED_UPDATES],
    drop_pending_updates: opts.dropPendingUpdates ?? false,
  });
}
