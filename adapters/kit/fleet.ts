/**
 * Many bots of one platform in one deployment, behind the one `ChannelAdapter` the pipeline knows for that
 * platform: a fleet of per-bot adapters keyed by tenant (the bot's platform id, which every conversation key
 * carries), so a reply, a typing sign or a published command goes out with the token of the bot the conversation
 * belongs to and never another's. Bots come from a list (the environment's bot, if any, plus the admin-managed
 * table) that is read again when a change is announced (`changes`: Redis pub/sub, so every replica hears an add or
 * remove at once), and at most every `syncMs` as a fallback for a missed message (on a timer in gateways, before a
 * send in workers), so an added bot starts and a removed one stops without a restart. A platform plugs in with
 * `shape` (what every bot of it shares), `build` (one bot's adapter) and, for webhooks, each bot's route handler
 * under `/<platform>/bots/:name/<route>`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type {
  ChannelAdapter,
  ChannelHealth,
  IngressSink,
  LivePreviewOps,
  PublishedCommand,
} from '../../src/core/adapter.js';
import { PermanentSendError } from '../../src/core/errors.js';
import type { ConversationRef, Platform, RenderedPart } from '../../src/core/types.js';
import { safeErr } from '../../src/observability/logger.js';

export interface FleetBotSpec {
  name: string;
  /** The bot's platform id: the tenant of its conversations. */
  tenant: string;
  /** Anything that, when changed, means the bot must be rebuilt (a hash of its secrets, never the secrets). */
  version: string;
}

type RouteHandler = (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

export interface FleetMember extends ChannelAdapter {
  /** The bot's webhook route handler, when it takes webhooks. */
  webhook?(sink: IngressSink): RouteHandler | undefined;
}

/** How many added bots that are not up /readyz names; the rest are counted. */
const NAMED_NOT_UP = 5;

/** What every bot of a platform shares, so a fleet works without an environment's bot. */
export type FleetShape = Pick<ChannelAdapter, 'capabilities' | 'limits' | 'render' | 'mentions' | 'paceMs'> & {
  /** Live previews' pacing; the posts and edits go through the conversation's bot. */
  preview?: Pick<LivePreviewOps, 'minIntervalMs' | 'minChars' | 'intervalFor' | 'isDraft'>;
};

export interface FleetOptions<S extends FleetBotSpec> {
  platform: Platform;
  /** The environment's bot (registered, started and stopped as before), with its tenant; absent: added bots only. */
  primary?: { adapter: ChannelAdapter; tenant: string };
  shape: FleetShape;
  list(): Promise<S[]>;
  build(spec: S): FleetMember;
  /** The bot (its spec's tenant) a conversation tenant belongs to; default: the same string. */
  botOf?(tenant: string): string;
  /** The route segment of a bot's webhook under `/<platform>/bots/:name/`; default `webhook`. */
  webhookRoute?: string;
  /** Subscribe to "the bots changed" announcements; resolves to an unsubscribe. */
  changes?(onChange: () => void): Promise<() => Promise<void>>;
  syncMs: number;
  log: Logger;
}

export interface BotFleet extends ChannelAdapter {
  /** The environment's bot's tenant (an extra bot cannot be the same bot). */
  readonly primaryTenant: string | undefined;
  /** Read the list now and start / stop bots to match it. */
  sync(): Promise<void>;
  /** The extra bots running in this process. */
  members(): Array<{ name: string; tenant: string; health: ChannelHealth }>;
}

interface Member {
  spec: FleetBotSpec;
  adapter: FleetMember;
  /** Connections opened (a member built before the fleet started, e.g. by a send, is started with it). */
  started?: boolean;
}

export function createBotFleet<S extends FleetBotSpec>(o: FleetOptions<S>): BotFleet {
  const byName = new Map<string, Member>();
  const byTenant = new Map<string, Member>();
  let sink: IngressSink | undefined;
  let timer: NodeJS.Timeout | undefined;
  let lastSync = 0;
  let syncing: Promise<void> | undefined;
  let stopped = false;
  let unsubscribe: (() => Promise<void>) | undefined;
  /** The command list published last: a bot added later gets it too. */
  let published: PublishedCommand[] | undefined;
  const primary = o.primary;
  const botOf = o.botOf ?? ((tenant: string) => tenant);

  const drop = async (m: Member) => {
    byName.delete(m.spec.name);
    if (byTenant.get(m.spec.tenant) === m) byTenant.delete(m.spec.tenant);
    await m.adapter.stop?.().catch((err: Error) => o.log.warn({ err: safeErr(err) }, 'bot stop failed'));
  };

  /** Once the fleet runs: open the bot's connections and give it the commands the others were given. */
  const begin = async (m: Member) => {
    if (!sink || stopped || m.started) return;
    m.started = true;
    await m.adapter.start?.(sink);
    if (published && m.adapter.publishCommands) {
      const warn = (err: Error) => o.log.warn({ bot: m.spec.name, err: safeErr(err) }, 'bot commands not published');
      void m.adapter.publishCommands(published).catch(warn); // in the background: a slow platform holds up nothing
    }
  };

  const reconcile = async () => {
    const wanted = await o.list();
    const names = new Set(wanted.map((s) => s.name));
    for (const m of [...byName.values()]) if (!names.has(m.spec.name)) await drop(m);
    for (const spec of wanted) {
      if (spec.tenant === primary?.tenant) continue; // the environment's bot already runs
      const had = byName.get(spec.name);
      if (had && had.spec.version === spec.version && had.spec.tenant === spec.tenant) continue;
      if (had) await drop(had);
      let adapter: FleetMember;
      try {
        adapter = o.build(spec);
      } catch (err) {
        // One bad row (say, a key the platform's library refuses) must not keep every other bot from starting.
        o.log.error({ platform: o.platform, bot: spec.name, err: safeErr(err as Error) }, 'bot not started');
        continue;
      }
      const m: Member = { spec, adapter };
      byName.set(spec.name, m);
      byTenant.set(spec.tenant, m);
      await begin(m);
      o.log.info({ platform: o.platform, bot: spec.name, tenant: spec.tenant }, 'bot added');
    }
    lastSync = Date.now();
  };

  const sync = (): Promise<void> => {
    syncing ??= reconcile().finally(() => {
      syncing = undefined;
    });
    return syncing;
  };

  /** The adapter answering a tenant's conversations; a removed bot's conversations have none. */
  const forTenant = async (tenant: string): Promise<ChannelAdapter> => {
    const bot = botOf(tenant);
    if (primary && bot === primary.tenant) return primary.adapter;
    if (Date.now() - lastSync > o.syncMs || !byTenant.has(bot)) await sync();
    const m = byTenant.get(bot);
    if (!m) throw new PermanentSendError('forbidden', `${o.platform}: no bot for this conversation any more`);
    return m.adapter;
  };

  const base = primary?.adapter;
  const shape = o.shape;
  const previewOf = async (ref: ConversationRef): Promise<LivePreviewOps> => {
    const p = (await forTenant(ref.tenant)).preview;
    if (!p) throw new PermanentSendError('forbidden', `${o.platform}: this bot shows no previews`);
    return p;
  };
  const onChange = () => void sync().catch((err: Error) => o.log.warn({ err: safeErr(err) }, 'bots: sync failed'));

  return {
    platform: o.platform,
    capabilities: shape.capabilities,
    ...(shape.mentions ? { mentions: shape.mentions } : {}),
    limits: shape.limits,
    render: (markdown) => shape.render(markdown),

    registerRoutes(http: FastifyInstance, s: IngressSink) {
      base?.registerRoutes?.(http, s);
      http.post<{ Params: { name: string } }>(
        `/${o.platform}/bots/:name/${o.webhookRoute ?? 'webhook'}`,
        async (req, reply) => {
          const handler = byName.get(req.params.name)?.adapter.webhook?.(s);
          if (!handler) return reply.code(404).send({ error: 'no such bot' });
          return handler(req, reply);
        },
      );
    },

    async start(s: IngressSink) {
      sink = s;
      await base?.start?.(s);
      // Subscribed before the first read: a change announced in between is not missed.
      unsubscribe = await o.changes?.(onChange).catch((err: Error) => {
        o.log.warn({ err: safeErr(err) }, 'bots: no change announcements, polling only');
        return undefined;
      });
      await sync().catch((err: Error) => o.log.warn({ err: safeErr(err) }, 'bots: first sync failed'));
      for (const m of [...byName.values()]) await begin(m);
      timer = setInterval(onChange, o.syncMs); // the fallback for an announcement this process missed
      timer.unref();
    },

    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      await unsubscribe?.().catch(() => undefined);
      await syncing?.catch(() => undefined);
      await base?.stop?.();
      for (const m of [...byName.values()]) await drop(m);
    },

    async send(ref: ConversationRef, part: RenderedPart) {
      return (await forTenant(ref.tenant)).send(ref, part);
    },
    paceMs: (ref) => shape.paceMs?.(ref) ?? shape.limits.minSendIntervalMs,
    async startTyping(ref, replyTo) {
      const a = await forTenant(ref.tenant).catch(() => undefined);
      return a?.startTyping ? a.startTyping(ref, replyTo) : async () => undefined;
    },
    async fetchAttachment(attachment, from) {
      const a = await forTenant(from.tenant);
      if (!a.fetchAttachment) throw new Error(`${o.platform}: this bot does not fetch attachments`);
      return a.fetchAttachment(attachment, from);
    },
    ...(shape.preview
      ? {
          preview: {
            ...shape.preview,
            post: async (ref, ...rest) => (await previewOf(ref)).post(ref, ...rest),
            edit: async (ref, id, text) => (await previewOf(ref)).edit(ref, id, text),
            remove: async (ref, id) => (await previewOf(ref)).remove(ref, id),
          } satisfies LivePreviewOps,
        }
      : {}),
    approvals: {
      async replace(ref, messageId, text, approvalId) {
        const a = await forTenant(ref.tenant);
        if (!a.approvals) throw new PermanentSendError('forbidden', `${o.platform}: this bot has no approval prompts`);
        return a.approvals.replace(ref, messageId, text, approvalId);
      },
    },

    health(): ChannelHealth {
      const h: ChannelHealth = base?.health() ?? { state: 'up' };
      if (byName.size === 0) return base ? h : { state: 'up', detail: 'no bots added yet' };
      // Which ones are not up, by the name the admin gave them (never a token): the first few, then a count.
      const notUp = [...byName.values()]
        .map((m) => ({ name: m.spec.name, state: m.adapter.health().state }))
        .filter((m) => m.state !== 'up');
      const named = notUp.slice(0, NAMED_NOT_UP).map((m) => `${m.name} ${m.state}`);
      if (notUp.length > NAMED_NOT_UP) named.push(`${notUp.length - NAMED_NOT_UP} more`);
      const bots = `${byName.size - notUp.length}/${byName.size} added bots up${named.length ? ` (not up: ${named.join(', ')})` : ''}`;
      return { ...h, detail: [h.detail, bots].filter(Boolean).join('; ') };
    },

    async publishCommands(commands: PublishedCommand[]) {
      published = commands;
      // The bots in the table now, not only those this process happened to build; the environment's bot regardless.
      await sync().catch((err: Error) => o.log.warn({ err: safeErr(err) }, 'bots: sync failed'));
      let n = (await base?.publishCommands?.(commands)) ?? commands.length;
      for (const m of byName.values()) n = Math.min(n, (await m.adapter.publishCommands?.(commands)) ?? n);
      return n;
    },

    primaryTenant: primary?.tenant,
    sync,
    members: () =>
      [...byName.values()].map((m) => ({ name: m.spec.name, tenant: m.spec.tenant, health: m.adapter.health() })),
  };
}
