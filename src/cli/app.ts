/**
 * The composition root: wires config, Redis, the database, queues, adapters, the HTTP server and the worker for
 * one role. `main.ts` calls it for the real process; integration tests call it too, so they run the same code.
 */
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { withCircuitBreaker } from '../agent/breaker.js';
import { createAgentRuntime } from '../agent/runtime.js';
import { attachmentReaderFor } from '../attachments/index.js';
import { baseTools } from '../agent/tools.js';
import { CommandRegistry } from '../commands/registry.js';
import type { IngressSink } from '../core/adapter.js';
import { AdapterRegistry } from '../core/registry.js';
import type { Config } from '../config/env.js';
import { openDatabase, type Database } from '../db/client.js';
import { createIngressSink } from '../ingress/sink.js';
import { buildServer } from '../ingress/server.js';
import { mountBullBoard } from '../observability/bull-board.js';
import { inboundEvents } from '../observability/metrics.js';
import { sampleQueues } from '../observability/queue-metrics.js';
import { Inbox } from '../queue/inbox.js';
import { keys as makeKeys, type Keys } from '../queue/keys.js';
import { Queues } from '../queue/queues.js';
import { checkEvictionPolicy, createRedis } from '../queue/redis.js';
import { startWorker, type RunningWorker } from '../worker/index.js';
import { defaultMaxRssMb } from '../worker/backpressure.js';
import { checkModules, composeModules } from '../modules/compose.js';
import type { GatewayModule, ModuleDefinition, ModuleDeps, Services } from '../modules/contract.js';
import { builtInModules } from './modules.js';
import { platformPreviews } from '../live/preview.js';
import { registerPlatformCommands } from './register-commands.js';
import { safeErr } from '../observability/logger.js';
import { startTracing, tracingOptions } from '../observability/tracing.js';
import { createHttpFetch } from '../core/http-fetch.js';

/** How long in-flight HTTP requests get to finish at shutdown (platform webhooks ack within 3 s). */
const HTTP_DRAIN_MS = 3_000;

export type Role = 'gateway' | 'worker' | 'all';

export interface AppOptions {
  config: Config;
  role: Role;
  log: Logger;
  databaseUrl: string;
  redisUrl: string;
  lockDurationMs?: number;
  sweepEveryMs?: number;
  /** Development only: an API key the web chat page is handed, so it works without creating one. */
  devApiKey?: string;
  /** Extra capability modules (tests): composed exactly like the built-in ones, after them in hook order. */
  extraModules?: readonly ModuleDefinition[];
}

export interface App {
  server: FastifyInstance;
  url: string;
  adapters: AdapterRegistry;
  /** What the modules provide each other (tests reach a module's functions through them). */
  services: Partial<Services>;
  /** The app's database pool (tests watch the statements it sends). */
  database: Database;
  /** The app's own Redis connection (tests check what is defined on it). */
  redis: Redis;
  /** The app's queues (tests make a turn job's add fail, as a Redis error or a crash would). */
  queues: Queues;
  worker?: RunningWorker;
  stop(): Promise<void>;
}

/** Everything a role is built from, before anything starts: connections, adapters, sink, modules, commands. */
export interface Composition {
  redis: Redis;
  connect(): Redis;
  connections: Redis[];
  database: Database;
  /** The HTTP client for the model provider and the platforms' Web APIs. */
  httpFetch: typeof fetch;
  keys: Keys;
  queues: Queues;
  inbox: Inbox;
  commands: CommandRegistry;
  adapters: AdapterRegistry;
  sink: IngressSink;
  modules: GatewayModule[];
  services: Partial<Services>;
  /** Closes what composing opened (for callers that only needed the parts, like command registration). */
  close(): Promise<void>;
}

/**
 * Builds the parts of a role without starting anything (no server, no workers, no platform connections). Postgres
 * connects lazily; Redis connections are opened but nothing is sent until something runs.
 */
export function composeApp(o: AppOptions): Composition {
  const { config, log } = o;
  const definitions = [...builtInModules, ...(o.extraModules ?? [])];
  checkModules(definitions); // a missing or circular requirement fails before anything is opened
  const k = makeKeys(config.KEY_PREFIX);
  const gateway = o.role !== 'worker';
  const worker = o.role !== 'gateway';
  // Ingress fails fast when Redis is away (503, the platform retries) instead of queueing requests forever.
  // Not enableAutoPipelining: ioredis 6 crashes the process (TypeError in autoPipelining.js) when a script's
  // SHA is resent after NOSCRIPT inside an automatic pipeline (seen in bench:round-trips on a fresh Redis).
  const shared = gateway ? { maxRetriesPerRequest: 1, commandTimeout: 2_500 } : {};
  const redis = createRedis(o.redisUrl, shared);
  // BullMQ defines its ~60 Lua scripts on the connection its queues are given, and ioredis copies every script
  // defined on a connection onto each multi/pipeline built from it (56 µs a multi with them, 9 without). The
  // queues get a connection of their own, so the app's many small transactions stay cheap.
  const queueRedis = createRedis(o.redisUrl, shared);
  const connections = [redis, queueRedis];
  const connect = () => {
    const c = createRedis(o.redisUrl);
    connections.push(c);
    return c;
  };
  const database = openDatabase(o.databaseUrl, config.DATABASE_POOL_SIZE);
  // One HTTP client (keep-alive pool) for the model provider and the platforms' Web APIs.
  const httpFetch = createHttpFetch({ connectionsPerOrigin: config.HTTP_CONNECTIONS_PER_HOST });
  const queues = new Queues(queueRedis, k);
  const inbox = new Inbox(redis, k, config.DEDUPE_TTL_SECONDS);
  const commands = new CommandRegistry();
  // Filled from the modules' adapters below; the sink and the modules read it at call time, not while composing.
  const adapters = new AdapterRegistry();

  // Every role has a sink: workers use it for synthetic events (check-ins, reminders, API runs).
  const sink = createIngressSink({
    inbox,
    queues,
    redis,
    keys: k,
    commands,
    adapters,
    log,
    maxInputChars: config.MAX_INPUT_CHARS,
    maxAttachments: config.MAX_ATTACHMENTS,
    maxAttachmentBytes: config.MAX_ATTACHMENT_BYTES,
    claimTtlSeconds: config.DEDUPE_TTL_SECONDS,
    onSubmit: (platform, outcome) => inboundEvents.inc({ platform, outcome }),
  });
  const moduleDeps: ModuleDeps = {
    config,
    log,
    database,
    redis,
    queueRedis,
    connect,
    httpFetch,
    keys: k,
    queues,
    inbox,
    adapters,
    commands,
    sink,
    role: { gateway, worker },
    devApiKey: config.isProduction ? undefined : o.devApiKey,
  };
  const close = async () => {
    await sink.drain();
    await queues.close();
    await database.close();
    for (const c of connections) c.disconnect();
  };
  let composed: ReturnType<typeof composeModules>;
  try {
    composed = composeModules(definitions, moduleDeps);
  } catch (err) {
    void close().catch(() => undefined);
    throw err;
  }
  const { modules, services } = composed;
  for (const m of modules) for (const c of m.commands ?? []) commands.add(c);
  for (const m of modules) for (const a of m.adapters ?? []) adapters.add(a);
  return {
    redis,
    connect,
    connections,
    database,
    httpFetch,
    keys: k,
    queues,
    inbox,
    commands,
    adapters,
    sink,
    modules,
    services,
    close,
  };
}

export async function startApp(o: AppOptions): Promise<App> {
  const { config, log } = o;
  const gateway = o.role !== 'worker';
  const worker = o.role !== 'gateway';
  // Before anything that makes spans (the runtime reads it when it builds its runner).
  const tracing = await startTracing(tracingOptions(config));
  const c = composeApp(o);
  try {
    await checkEvictionPolicy(c.redis, config.isProduction, (msg) => log.warn(msg));
  } catch (err) {
    await c.close();
    await tracing.shutdown();
    throw err;
  }
  const { redis, connect, database, keys: k, queues, inbox, commands, adapters, sink, modules } = c;
  if (gateway && config.COMMANDS_REGISTER_ON_START) {
    // In the background: a platform that is slow or down must not hold up (or fail) the start of the others.
    void registerPlatformCommands(adapters.all(), commands.list(), log).catch((err: Error) => {
      log.warn({ err: safeErr(err) }, 'command registration failed; run `npm run commands:register` later');
    });
  }

  const server = await buildServer({
    log,
    adapters: gateway ? adapters.all() : [],
    sink: gateway ? sink : undefined,
    // Room for MAX_INPUT_CHARS of text plus the platform envelope; the character limit itself gives a clear 413.
    bodyLimit: Math.max(1024 * 1024, config.MAX_INPUT_CHARS * 8),
    checks: { redis: () => redis.ping(), database: () => database.sql`select 1` },
    // Connection states exist only where connections are made: worker-only processes build adapters to send.
    channels: () =>
      Object.assign(
        gateway ? Object.fromEntries(adapters.all().map((a) => [a.platform, a.health()])) : {},
        ...modules.map((m) => m.health?.() ?? {}),
      ),
    beforeMetrics: () => sampleQueues([queues.turns, queues.outbound]),
  });
  if (gateway) for (const m of modules) await m.routes?.(server);
  if (gateway && (config.ADMIN_API_KEY || !config.isProduction)) {
    await mountBullBoard(server, [queues.turns, queues.outbound], config.ADMIN_API_KEY);
  }

  let running: RunningWorker | undefined;
  if (worker) {
    const tools = modules.flatMap((m) => m.tools ?? []);
    const offlineTurns = modules.flatMap((m) => m.offlineTurns ?? []);
    // Agents as configuration (src/agents): turns run the agent routed for their conversation.
    const pick = c.services.agents?.picker([...baseTools, ...tools], offlineTurns);
    const runtime = withCircuitBreaker(createAgentRuntime(config, log, tools, offlineTurns, pick, c.httpFetch), log, {
      volumeThreshold: config.MODEL_BREAKER_THRESHOLD,
      resetTimeoutMs: config.MODEL_BREAKER_RESET_MS,
    });
    running = startWorker({
      db: database.db,
      redis,
      connect,
      keys: k,
      inbox,
      queues,
      runtime,
      adapters,
      log,
      concurrency: config.WORKER_CONCURRENCY,
      outboundConcurrency: config.OUTBOUND_CONCURRENCY,
      historyLimit: config.SESSION_HISTORY_LIMIT,
      batchMax: config.TURN_BATCH_MAX,
      approvalTimeoutMs: config.APPROVAL_TIMEOUT_MS,
      lockDurationMs: o.lockDurationMs ?? config.JOB_LOCK_MS,
      sweepEveryMs: o.sweepEveryMs ?? config.SWEEP_INTERVAL_MS,
      hooks: modules.flatMap((m) => (m.hooks ? [m.hooks] : [])),
      deadLetterAfter: config.DEADLETTER_AFTER_ATTEMPTS,
      preview: platformPreviews({ redis, keys: k, adapters, log, off: config.LIVE_PREVIEWS_OFF }),
      backpressure: {
        maxRssMb: config.WORKER_MAX_RSS_MB ?? defaultMaxRssMb(),
        maxLoopDelayMs: config.WORKER_MAX_LOOP_DELAY_MS,
      },
      // Files are read at turn time through their adapter (src/attachments).
      attachments: attachmentReaderFor(config, adapters, log),
      modelAcceptsImages: config.MODEL_ACCEPTS_IMAGES,
    });
  }
  const moduleStops: (() => Promise<void>)[] = [];
  for (const m of modules) {
    if (worker && m.startWorker) moduleStops.push(await m.startWorker());
    if (gateway && m.startGateway) moduleStops.push(await m.startGateway());
  }
  if (gateway) for (const a of adapters.all()) await a.start?.(sink);

  const address = await server.listen({ host: config.HOST, port: config.PORT });
  const url = address.replace('[::1]', '127.0.0.1');

  let stopped = false;
  return {
    server,
    url,
    adapters,
    services: c.services,
    database,
    redis,
    queues,
    worker: running,
    async stop() {
      if (stopped) return;
      stopped = true;
      // Stop taking requests first. Requests that never end by themselves (SSE streams of an open web chat tab,
      // long-polls) would hold close() for ever: past a short drain they are cut; the clients reconnect elsewhere.
      const cut = setTimeout(() => server.server.closeAllConnections(), HTTP_DRAIN_MS).unref();
      await server.close();
      clearTimeout(cut);
      for (const a of adapters.all())
        await a.stop?.().catch((err: Error) => log.warn({ err: safeErr(err) }, 'adapter stop failed'));
      for (const stop of moduleStops)
        await stop().catch((err: Error) => log.warn({ err: safeErr(err) }, 'module stop failed'));
      await running?.close(config.SHUTDOWN_GRACE_MS);
      await c.close();
      await tracing.shutdown(); // exports the spans still buffered
    },
  };
}
