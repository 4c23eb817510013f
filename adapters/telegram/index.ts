/**
 * The Telegram channel adapter: webhook or long-polling ingress, MarkdownV2 rendering, sending through grammY.
 * Everything platform-specific stays in this folder; the pipeline only sees the ChannelAdapter contract.
 */
import { fetchTelegramFile } from './client.js';
import { Api } from 'grammy';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import type { ChannelAdapter, ChannelHealth, IngressSink } from '../../src/core/adapter.js';
import type { ConversationRef, RenderedPart } from '../../src/core/types.js';
import { DEFAULT_BACKOFF, type Backoff } from '../kit/backoff.js';
import { publishTelegramCommands, type TelegramCommandSpec } from './commands.js';
import { dispatchUpdate, type DispatchDeps } from './ingress.js';
import { renderTelegram } from './format.js';
import { BotIdentityCache } from './identity.js';
import { MAX_MESSAGE_CHARS, paceMs, PRIVATE_SEND_INTERVAL_MS } from './limits.js';
import { telegramMentions, type BotIdentity } from './parse.js';
import { TelegramPoller } from './polling.js';
import { TelegramSender } from './send.js';
import { telegramPreview, telegramPreviewPacing } from './stream.js';
import { SECRET_TOKEN_PATTERN } from './verify.js';
import { registerWebhookRoute, webhookHandler } from './webhook.js';

export { setTelegramWebhook } from './webhook.js';

/** What every Telegram bot shares (a fleet of added bots answers with it when there is no environment's bot). */
export const telegramShape = {
  capabilities: { ephemeral: false },
  mentions: telegramMentions,
  limits: { maxMessageChars: MAX_MESSAGE_CHARS, minSendIntervalMs: PRIVATE_SEND_INTERVAL_MS },
  render: (markdown: string) => renderTelegram(markdown),
  paceMs,
  preview: telegramPreviewPacing,
};
export { publishTelegramCommands } from './commands.js';
export { toPlainText } from './format.js';

export interface TelegramAdapterOptions {
  /** BotFather token. Never logged, never put in job data or Redis keys. */
  token: string;
  /** Bot API root (local Bot API server, test fake); default https://api.telegram.org. */
  apiRoot?: string;
  mode: 'webhook' | 'polling';
  /** Required in webhook mode: the `secret_token` given to setWebhook. */
  webhookSecret?: string;
  webhookPath?: string;
  /** Edited messages: ignored (default) or submitted as events of kind 'edit'. */
  edits?: 'ignore' | 'new_turn';
  /** Accept messages from other bots (default false). The bot's own messages are always dropped. */
  allowBots?: boolean;
  /** Answer bare `/command` (without @botname) in groups (default false). */
  groupCommandsWithoutMention?: boolean;
  /** Required in polling mode (the lease that elects the one poller). */
  redis?: Redis;
  /** Required in polling mode, e.g. "gw". */
  keyPrefix?: string;
  leaseTtlMs?: number;
  pollTimeoutSeconds?: number;
  /** Back-off for getMe, getUpdates and submit retries (default 500 ms doubling to 30 s). */
  backoff?: Backoff;
  log?: Logger;
}

export interface TelegramAdapter extends ChannelAdapter {
  /** The grammY Api (for scripts: commands, webhook info). */
  readonly api: Api;
  start(sink: IngressSink): Promise<void>;
  stop(): Promise<void>;
  startTyping(ref: ConversationRef, replyTo?: string): Promise<() => Promise<void>>;
  paceMs(ref: ConversationRef): number;
  publishCommands(commands: TelegramCommandSpec[]): Promise<number>;
  /** The bot's id and username once getMe succeeded. */
  identity(): BotIdentity | undefined;
  /** Webhook mode: the route handler (registerRoutes mounts it at `webhookPath`; a fleet under its own path). */
  webhook(sink: IngressSink): ((req: FastifyRequest, reply: FastifyReply) => Promise<unknown>) | undefined;
}

function validate(o: TelegramAdapterOptions): void {
  // Messages name the option, never its value: the token must not reach logs.
  if (!/^\d+:[A-Za-z0-9_-]+$/.test(o.token)) throw new Error('telegram: token is not a bot token (<id>:<secret>)');
  if (o.mode === 'webhook' && !(o.webhookSecret && SECRET_TOKEN_PATTERN.test(o.webhookSecret))) {
    throw new Error('telegram: webhook mode needs webhookSecret (1-256 characters of A-Z, a-z, 0-9, _ and -)');
  }
  if (o.mode === 'polling' && !(o.redis && o.keyPrefix))
    throw new Error('telegram: polling mode needs redis and keyPrefix');
}

export function createTelegramAdapter(options: TelegramAdapterOptions): TelegramAdapter {
  validate(options);
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const pollTimeoutSeconds = options.pollTimeoutSeconds ?? 30;
  // grammY refuses an apiRoot ending in "/"; its request timeout must outlast a long poll.
  const api = new Api(options.token, {
    ...(options.apiRoot ? { apiRoot: options.apiRoot.replace(/\/+$/, '') } : {}),
    timeoutSeconds: Math.max(60, pollTimeoutSeconds + 30),
  });
  let logger: Logger = options.log ?? pino({ level: 'silent' });
  const log = () => logger;
  const useSink = (sink: IngressSink) => {
    if (!options.log) logger = sink.log.child({ platform: 'telegram' });
  };
  const identity = new BotIdentityCache(api, log);
  const sender = new TelegramSender(api, log);
  const render = (markdown: string) => renderTelegram(markdown);
  const send = (ref: ConversationRef, part: RenderedPart) => sender.send(ref, part);
  const deps: DispatchDeps = {
    api,
    options: {
      edits: options.edits ?? 'ignore',
      allowBots: options.allowBots ?? false,
      groupCommandsWithoutMention: options.groupCommandsWithoutMention ?? false,
    },
    render,
    send,
  };
  const lifecycle = new AbortController();
  let poller: TelegramPoller | undefined;

  const startPolling = (sink: IngressSink) => {
    if (lifecycle.signal.aborted || poller) return;
    poller = new TelegramPoller({
      api,
      redis: options.redis!,
      keyPrefix: options.keyPrefix!,
      token: options.token,
      ...(options.leaseTtlMs !== undefined ? { leaseTtlMs: options.leaseTtlMs } : {}),
      pollTimeoutSeconds,
      backoff,
      handle: async (update) => {
        await dispatchUpdate(deps, update, identity.known!, sink, log());
      },
      log,
    });
    poller.start();
  };

  const webhookDeps = {
    secret: options.webhookSecret ?? '',
    identity: () => identity.tryOnce(),
    dispatch: (body: unknown, bot: BotIdentity, s: IngressSink) => dispatchUpdate(deps, body, bot, s, log()),
    log,
  };

  return {
    platform: 'telegram',
    api,
    capabilities: { ephemeral: false },
    mentions: telegramMentions,
    fetchAttachment(a, { signal }) {
      if (!a.ref) return Promise.reject(new Error('telegram attachment without file_id'));
      return fetchTelegramFile(api, options.token, options.apiRoot, a.ref, signal);
    },
    limits: { maxMessageChars: MAX_MESSAGE_CHARS, minSendIntervalMs: PRIVATE_SEND_INTERVAL_MS },

    registerRoutes(http: FastifyInstance, sink: IngressSink): void {
      if (options.mode !== 'webhook') return;
      useSink(sink);
      registerWebhookRoute(http, sink, { path: options.webhookPath ?? '/telegram/webhook', ...webhookDeps });
    },

    webhook(sink: IngressSink) {
      if (options.mode !== 'webhook') return undefined;
      useSink(sink);
      return webhookHandler(sink, webhookDeps);
    },

    async start(sink: IngressSink): Promise<void> {
      useSink(sink);
      // One attempt inline (the common case is a quick success); on failure keep trying in the background so
      // that start() returns and the rest of the gateway comes up. Polling begins once the bot is known.
      const me = await identity.tryOnce();
      const ready = me ? Promise.resolve(me) : identity.untilKnown(lifecycle.signal, backoff);
      if (options.mode === 'polling') void ready.then((bot) => bot && startPolling(sink));
    },

    async stop(): Promise<void> {
      lifecycle.abort();
      await poller?.stop();
    },

    render,
    send,
    paceMs,
    preview: telegramPreview(api),
    startTyping: (ref: ConversationRef) => sender.startTyping(ref),
    approvals: { replace: (ref, messageId, text, approvalId) => sender.replace(ref, messageId, text, approvalId) },

    health(): ChannelHealth {
      if (!identity.known)
        return { state: 'connecting', ...(identity.lastError ? { detail: `getMe: ${identity.lastError}` } : {}) };
      if (options.mode === 'webhook') return { state: 'up' };
      return poller ? poller.health() : { state: 'connecting' };
    },

    async publishCommands(commands) {
      await publishTelegramCommands(
        api,
        commands.map((c) => ({ name: c.name, description: c.description })),
      );
      return commands.length;
    },
    identity: () => identity.known,
  };
}
