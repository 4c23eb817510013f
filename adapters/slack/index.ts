/**
 * The Slack channel adapter: events, slash commands and interactivity in (one HTTP Request URL, or Socket Mode),
 * chat.postMessage out. Wiring only; each concern lives in its own file (verify, http, dispatch, parse, commands,
 * interactions, format, api/send, socket-mode).
 */
import type { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import type { ChannelAdapter, IngressSink } from '../../src/core/adapter.js';
import { ThreadTracker } from '../kit/thread-tracker.js';
import { threadKey } from '../../src/queue/keys.js';
import { createWebClient, fetchSlackFile, SLACK_API_URL, SlackClients, type TokenLookup } from './client.js';
import { registerSlackOAuthRoutes, type SlackOAuthOptions } from './oauth.js';
import { workspaceTokens, type SlackWorkspaces } from './workspaces.js';
import type { DispatchDeps } from './ingress.js';
import { renderSlack } from './format.js';
import { slackRequestHandler } from './webhook.js';
import type { BlockActionsHandler } from './interactions.js';
import { SLACK_MAX_MESSAGE_CHARS, SLACK_MIN_SEND_INTERVAL_MS } from './limits.js';
import { slackMentions, type EditPolicy, type ParseContext } from './parse.js';
import { SlackSender } from './send.js';
import { SlackSocketMode } from './socket-mode.js';
import { slackStreamPreview } from './stream.js';
import { safeErr } from '../../src/observability/logger.js';

export interface SlackAdapterOptions {
  /**
   * Bot token (xoxb-…) of a single-workspace app, and of any workspace not installed through the OAuth flow.
   * Never logged. Absent: only installed workspaces are answered.
   */
  botToken?: string;
  /** Signing secret, for the v0 request signature on HTTP routes. */
  signingSecret: string;
  /** App-level token (xapp-…, scope connections:write): when set, events arrive over Socket Mode. */
  appToken?: string;
  /** Web API base URL, default https://slack.com/api/ (tests point it at a loopback fake). */
  apiUrl?: string;
  /** The HTTP client Web API calls go through (src/core/http-fetch.ts); Node's fetch when absent. */
  fetch?: typeof fetch;
  /** The bot's user id (U…); when absent it is read with auth.test (at start, else on first event). */
  botUserId?: string;
  /** The Request URL's path: events, slash commands and interactivity. Default `/slack/events`. */
  eventsPath?: string;
  /** An alias of `eventsPath` (the same handler), for apps whose slash commands point there. Default `/slack/commands`. */
  commandsPath?: string;
  /** The app's own slash command (manifest.yaml: `/agent`): its first word names the command. Default `/agent`. */
  appCommand?: string;
  /** Take messages from other bots too (never our own). Default false. */
  allowBots?: boolean;
  /** What a user's edit does: 'ignore' (default) or 'new_turn' (the edited text is a new message of kind 'edit'). */
  edits?: EditPolicy;
  /** Answer channel mentions in a thread under the message (default true) rather than in the channel. */
  replyInThread?: boolean;
  redis: Redis;
  /** Prefix for this adapter's Redis keys (thread tracking). */
  keyPrefix: string;
  log?: Logger;
  /** Team id -> bot token. Defaults to `botToken` for every team; per-workspace installs replace it. */
  tokenFor?: TokenLookup;
  /** Workspaces installed through the OAuth flow: their tokens answer their events (before `botToken`). */
  workspaces?: SlackWorkspaces;
  /** The install flow's routes (`/slack/install`, `/slack/oauth_redirect`); needs `workspaces`. */
  oauth?: SlackOAuthOptions;
  /** Reaction shown on the user's message while a reply is being written. */
  typingReaction?: string;
  /** Buttons and menus (`block_actions`); can also be set later with `adapter.onBlockActions`. */
  onBlockActions?: BlockActionsHandler;
}

export interface SlackAdapter extends ChannelAdapter {
  /**
   * The seam for interactivity: `handler` gets every `block_actions` payload (HTTP or Socket Mode), after Slack has
   * been acknowledged, once per trigger. Without one they are acknowledged and logged. Replaces any earlier one.
   */
  onBlockActions(handler: BlockActionsHandler | undefined): void;
}

interface Identity {
  botUserId: string;
  botId?: string;
}

export function createSlackAdapter(options: SlackAdapterOptions): SlackAdapter {
  const log = (options.log ?? pino({ level: 'silent' })).child({ platform: 'slack' });
  const apiUrl = options.apiUrl ?? SLACK_API_URL;
  const envToken = options.botToken;
  const tokens = options.workspaces
    ? workspaceTokens(
        options.workspaces,
        envToken
          ? {
              token: envToken,
              team: async () => (await createWebClient(envToken, apiUrl, log, options.fetch).auth.test()).team_id,
            }
          : undefined,
      )
    : undefined;
  const tokenFor: TokenLookup =
    options.tokenFor ??
    tokens?.tokenFor ??
    (() => {
      if (!options.botToken) throw new Error('slack: no bot token');
      return options.botToken;
    });
  const clients = new SlackClients(tokenFor, apiUrl, log, options.fetch);
  const threads = new ThreadTracker(options.redis, (t) => threadKey(options.keyPrefix, t));
  const sender = new SlackSender(clients, threads, log, options.typingReaction);
  const socket = options.appToken ? new SlackSocketMode({ appToken: options.appToken, apiUrl, log }) : undefined;
  let blockActions = options.onBlockActions;
  const eventsPath = options.eventsPath ?? '/slack/events';
  const commandsPath = options.commandsPath ?? '/slack/commands';

  // The bot's identity per workspace (with per-workspace installs, each has its own bot user).
  const identities = new Map<string, Promise<Identity>>();
  const identityFor = (team: string): Promise<Identity> => {
    if (options.botUserId) return Promise.resolve({ botUserId: options.botUserId });
    let p = identities.get(team);
    if (!p) {
      p = clients.forTeam(team).then(async (c) => {
        const r = await c.auth.test();
        if (!r.user_id) throw new Error('slack auth.test returned no user_id');
        return { botUserId: r.user_id, botId: r.bot_id };
      });
      p.catch((err: Error) => {
        identities.delete(team); // retried on the next event
        log.warn({ team, err: safeErr(err) }, 'slack: auth.test failed');
      });
      identities.set(team, p);
    }
    return p;
  };

  const contextFor = async (team: string): Promise<ParseContext> => {
    const id = await identityFor(team);
    return {
      botUserId: id.botUserId,
      botId: id.botId,
      allowBots: options.allowBots ?? false,
      edits: options.edits ?? 'ignore',
      replyInThread: options.replyInThread ?? true,
      threads,
    };
  };

  // One set of dispatch dependencies for HTTP and Socket Mode alike.
  // A workspace that uninstalled the app or revoked its bot token: its token and identity are forgotten.
  const workspaceGone = async (team: string, reason: string) => {
    identities.delete(team);
    const removed = await tokens?.remove(team);
    log.info({ team, reason, removed: removed ?? false }, 'slack: workspace removed');
  };

  const dispatchDeps = (sink: IngressSink, depsLog: Logger): DispatchDeps => ({
    sink,
    contextFor,
    workspaceGone,
    log: depsLog,
    appCommand: options.appCommand,
    blockActions: () => blockActions,
  });

  return {
    platform: 'slack',
    capabilities: { ephemeral: true },
    mentions: slackMentions,
    limits: { maxMessageChars: SLACK_MAX_MESSAGE_CHARS, minSendIntervalMs: SLACK_MIN_SEND_INTERVAL_MS },

    registerRoutes(http, sink: IngressSink) {
      // Socket Mode without a signing secret: no HTTP ingress at all, so nothing unsigned can come in that way.
      if (!options.signingSecret) return;
      const routeLog = options.log ? log : sink.log.child({ platform: 'slack' });
      const handler = slackRequestHandler({ signingSecret: options.signingSecret, ...dispatchDeps(sink, routeLog) });
      http.post(eventsPath, handler);
      if (commandsPath !== eventsPath) http.post(commandsPath, handler);
      if (options.oauth && options.workspaces)
        registerSlackOAuthRoutes(http, {
          ...options.oauth,
          store: options.workspaces,
          apiUrl,
          log: routeLog,
          onInstalled: (team) => tokens?.forget(team),
        });
    },

    async start(sink: IngressSink) {
      if (!options.botUserId && !options.tokenFor && options.botToken) {
        // Learn the bot's identity (and its workspace) up front; on failure it is retried on the first event.
        try {
          const c = await clients.forTeam('');
          const r = await c.auth.test();
          if (r.user_id && r.team_id)
            identities.set(r.team_id, Promise.resolve({ botUserId: r.user_id, botId: r.bot_id }));
        } catch (err) {
          log.warn({ err: safeErr(err) }, 'slack: auth.test at start failed');
        }
      }
      if (socket) await socket.start(sink, dispatchDeps(sink, log));
    },

    async stop() {
      await socket?.stop();
    },

    render: (markdown) => renderSlack(markdown, SLACK_MAX_MESSAGE_CHARS),
    send: (ref, part) => sender.send(ref, part),
    findSent: (ref, part, since) => sender.findSent(ref, part, since),
    startTyping: (ref, replyTo) => sender.startTyping(ref, replyTo),
    approvals: { replace: (ref, messageId, text, approvalId) => sender.replace(ref, messageId, text, approvalId) },
    health: () => (socket ? socket.health() : { state: 'up' }),
    async fetchAttachment(a, { tenant, signal }) {
      if (!a.url) throw new Error('slack file without url_private');
      return fetchSlackFile(a.url, await tokenFor(tenant), apiUrl, signal);
    },
    preview: slackStreamPreview(clients, identityFor),
    onBlockActions(handler) {
      blockActions = handler;
    },
  };
}

export type { EditPolicy } from './parse.js';
export type { SlackWorkspaces } from './workspaces.js';
export type { SlackOAuthOptions } from './oauth.js';
export type { BlockActions, BlockActionsContext, BlockActionsHandler } from './interactions.js';
