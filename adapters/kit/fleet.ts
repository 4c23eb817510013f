/**
 * Many bots of one platform in one deployment, behind the one `ChannelAdapter` the pipeline knows for that
 * platform: a fleet of per-bot adapters keyed by tenant (the bot's platform id, which every conversation key
 * carries), so a reply, a typing sign or a published command goes out with the token of the bot the conversation
 * belongs to and never another's. Bots come from a list (the environment's bot plus the admin-managed table) that
 * is read again at most every `syncMs` (on a timer in gateways, before a send in workers), so an added bot starts
 * and a removed one stops without a restart. A platform plugs in with `build` (one bot's adapter) and, for
 * webhooks, each bot's route handler under `/<platform>/bots/:name/webhook`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { ChannelAdapter, ChannelHealth, IngressSink, PublishedCommand } from '../../src/core/adapter.js';
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

export interface FleetMember extends ChannelAdapter {
  /** The bot's webhook route handler, when it takes webhooks. */
  webhook?(sink: IngressSink): ((req: FastifyRequest, reply: FastifyReply) => Promise<unknown>) | undefined;
}

export interface FleetOptions<S extends FleetBotSpec> {
  platform: Platform;
  /** The environment's bot (registered, started and stopped as before), with its tenant. */
  primary?: { adapter: ChannelAdapter; tenant: string };
  list(): Promise<S[]>;
  build(spec: S): FleetMember;
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
}

export function createBotFleet<S extends FleetBotSpec>(o: FleetOptions<S>): BotFleet {
  const byName = new Map<string, Member>();
  const byTenant = new Map<string, Member>();
  let sink: IngressSink | undefined;
  let timer: NodeJS.Timeout | undefined;
  let lastSync = 0;
  let syncing: Promise<void> | undefined;
  let stopped = false;
  const primary = o.primary;

  const drop = async (m: Member) => {
    byName.delete(m.spec.name);
    if (byTenant.get(m.spec.tenant) === m) byTenant.delete(m.spec.tenant);
    await m.adapter.stop?.().catch((err: Error) => o.log.warn({ err: safeErr(err) }, 'bot stop failed'));
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
      const m: Member = { spec, adapter: o.build(spec) };
      byName.set(spec.name, m);
      byTenant.set(spec.tenant, m);
      if (sink && !stopped) await m.adapter.start?.(sink);
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
    if (primary && tenant === primary.tenant) return primary.adapter;
    if (Date.now() - lastSync > o.syncMs || !byTenant.has(tenant)) await sync();
    const m = byTenant.get(tenant);
    if (!m) throw new PermanentSendError('forbidden', `${o.platform}: no bot for this conversation any more`);
    return m.adapter;
  };

  const base = primary?.adapter;
  if (!base) throw new Error('createBotFleet: needs the platform adapter of the environment (primary)');

  return {
    platform: o.platform,
    capabilities: base.capabilities,
    ...(base.mentions ? { mentions: base.mentions } : {}),
    limits: base.limits,
    render: (markdown) => base.render(markdown),

    registerRoutes(http: FastifyInstance, s: IngressSink) {
      base.registerRoutes?.(http, s);
      http.post<{ Params: { name: string } }>(`/${o.platform}/bots/:name/webhook`, async (req, reply) => {
        const handler = byName.get(req.params.name)?.adapter.webhook?.(s);
        if (!handler) return reply.code(404).send({ error: 'no such bot' });
        return handler(req, reply);
      });
    },

    async start(s: IngressSink) {
      sink = s;
      await base.start?.(s);
      await sync().catch((err: Error) => o.log.warn({ err: safeErr(err) }, 'bots: first sync failed'));
      timer = setInterval(
        () => void sync().catch((err: Error) => o.log.warn({ err: safeErr(err) }, 'bots: sync failed')),
        o.syncMs,
      );
      timer.unref();
    },

    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      await syncing?.catch(() => undefined);
      await base.stop?.();
      for (const m of [...byName.values()]) await drop(m);
    },

    async send(ref: ConversationRef, part: RenderedPart) {
      return (await forTenant(ref.tenant)).send(ref, part);
    },
    paceMs: (ref) => base.paceMs?.(ref) ?? base.limits.minSendIntervalMs,
    async startTyping(ref, replyTo) {
      const a = await forTenant(ref.tenant).catch(() => undefined);
      return a?.startTyping ? a.startTyping(ref, replyTo) : async () => undefined;
    },

    health(): ChannelHealth {
      const h = base.health();
      if (byName.size === 0) return h;
      const up = [...byName.values()].filter((m) => m.adapter.health().state === 'up').length;
      return { ...h, detail: [h.detail, `${up}/${byName.size} extra bots up`].filter(Boolean).join('; ') };
    },

    ...(base.publishCommands
      ? {
          async publishCommands(commands: PublishedCommand[]) {
            let n = await base.publishCommands!(commands);
            for (const m of byName.values()) n = Math.min(n, (await m.adapter.publishCommands?.(commands)) ?? n);
            return n;
          },
        }
      : {}),

    primaryTenant: primary?.tenant,
    sync,
    members: () =>
      [...byName.values()].map((m) => ({ name: m.spec.name, tenant: m.spec.tenant, health: m.adapter.health() })),
  };
}
