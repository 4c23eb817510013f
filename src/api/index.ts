/**
 * The agent API module: an HTTP API in the LangGraph SDK wire format (Agent Protocol names as aliases) under
 * API_PREFIX, and the web chat page. Threads are gateway conversations on platform `api` (tenant = the API key
 * id), runs are inbound events through the ingress sink, and a run is final when its turn commits (the
 * `afterCommit` hook). The module contributes the `api` channel adapter, so every role that composes the app
 * can deliver (acknowledge) API turns' replies.
 *
 * Roles: gateways serve the routes and wake waiting requests (run-done pub/sub); workers finalize runs, fire
 * crons and sweep for runs a crash left behind.
 */
import { defineModule, type GatewayModule, type ModuleDeps, type Services } from '../modules/contract.js';
import { createApiAdapter } from './adapter.js';
import { assistantOperations } from './assistants.js';
import type { ApiContext } from './context.js';
import { CronService } from './cron-service.js';
import { cronOperations } from './crons.js';
import { op, registerOperations, type Operation } from './http.js';
import { apiKeys } from './ids.js';
import { openApiDocument } from './openapi.js';
import { RunService } from './run-service.js';
import { sweepRuns } from './run-sweep.js';
import { runOperations } from './runs.js';
import { purgeExpired, storeOperations } from './store.js';
import { streamOperations } from './stream.js';
import { threadOperations } from './threads.js';
import { RunWaiters } from './waiters.js';
import { registerWebChat } from './web.js';
import { startPeriodic } from '../core/periodic.js';
import { LiveFeed } from '../live/feed.js';
import { requestStop } from '../live/turns.js';

export { createApiKey, listApiKeys, revokeApiKey, verifyApiKey } from './auth.js';

const VERSION = '1.0.0';

export function apiOperations(ctx: ApiContext): Operation[] {
  return [
    ...assistantOperations(ctx),
    ...threadOperations(ctx),
    ...runOperations(ctx),
    ...streamOperations(ctx),
    ...storeOperations(ctx),
    ...cronOperations(ctx),
  ];
}

export const apiModule = defineModule({ name: 'api', requires: ['agents'], create: createApiModule });

function createApiModule(deps: ModuleDeps, services: Pick<Services, 'agents'>): GatewayModule {
  const { config } = deps;
  const log = deps.log.child({ module: 'api' });
  if (!config.API_ENABLED) return { name: 'api' };
  if ([...config.OWNER_USERS, ...config.ADMIN_USERS].some((p) => p.startsWith('api:'))) {
    log.warn(
      'OWNER_USERS / ADMIN_USERS name api: users; ignored, API callers never hold a role (their user ids are client-chosen)',
    );
  }
  const keys = apiKeys(config.KEY_PREFIX);
  const { redis } = deps;
  const db = deps.database.db;
  // Runs and crons refer to each other (deleting a thread removes its crons, a firing cron creates a run); the
  // closure reads `crons` only when a thread is deleted, long after both exist.
  const runs: RunService = new RunService({
    db,
    redis,
    sink: deps.sink,
    keys,
    log,
    removeSchedulers: (keyId, ids) => crons.removeSchedulers(keyId, ids),
    // runs/cancel takes /stop's path: the worker aborts the model call if the run's turn is running.
    stopTurn: (conversationKey, eventId) =>
      requestStop(redis, deps.keys, conversationKey, eventId).then(() => undefined),
  });
  const crons = new CronService(
    { config, db, redis, queueRedis: deps.queueRedis, log, runs, keys, agents: services.agents.catalog },
    deps.keys.bullPrefix,
  );
  const live = deps.role.gateway ? new LiveFeed(deps.keys.live, log) : undefined;
  const ctx: ApiContext = {
    config,
    db,
    redis,
    log,
    keys,
    runs,
    crons,
    live,
    agents: services.agents.catalog,
    waiters: new RunWaiters(keys.runDone, log),
  };
  const webChat = config.WEB_CHAT ?? !config.isProduction;

  return {
    name: 'api',
    adapters: [createApiAdapter()],
    hooks: { afterCommit: (turn, outcome) => ctx.runs.onTurnCommitted(turn, outcome) },

    async routes(app) {
      let doc: Record<string, unknown> = {};
      const ops = [
        ...apiOperations(ctx),
        op({
          method: 'GET',
          path: '/openapi.json',
          tag: 'Meta',
          summary: 'This document',
          public: true,
          responses: { 200: 'OpenAPI 3.1' },
          handler: async () => doc,
        }),
      ];
      doc = openApiDocument(ops, config.API_PREFIX, VERSION);
      await app.register(
        async (scope) => {
          registerOperations(scope, ops, {
            db: ctx.db,
            redis: deps.redis,
            log,
            rateLimit: { perMinute: config.API_RATE_LIMIT_PER_MINUTE, burst: config.API_RATE_BURST },
            rateKey: keys.rate,
          });
        },
        { prefix: config.API_PREFIX },
      );
      // Before the server stops taking requests (and waits for open ones), end the requests that wait for runs.
      app.addHook('preClose', async () => ctx.waiters.release());
      if (webChat) {
        const devKey = config.isProduction ? undefined : deps.devApiKey;
        await registerWebChat(app, { path: config.WEB_CHAT_PATH, apiPrefix: config.API_PREFIX, log, devKey });
      }
    },

    async startGateway() {
      await ctx.waiters.start(deps.connect());
      ctx.live?.start(deps.connect());
      return async () => {
        await ctx.waiters.stop();
        await ctx.live?.stop();
        await ctx.crons.close();
      };
    },

    async startWorker() {
      const stopCrons = await ctx.crons.startWorker(deps.connect);
      const stopSweep = startPeriodic(
        async () => {
          await sweepRuns(ctx.runs, ctx);
          await purgeExpired(ctx);
        },
        config.API_SWEEP_INTERVAL_MS,
        log,
        { what: 'api sweep' },
      );
      return async () => {
        await stopSweep();
        await stopCrons();
      };
    },
  };
}
