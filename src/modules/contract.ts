/**
 * Capabilities beyond the spine (long-term memory, check-ins and reminders, commands and access control, the
 * agent API, the platform channels) plug in as modules, so the pipeline stays one path and no capability edits
 * another's files. A module contributes everything it owns through `GatewayModule`: agent tools, turn hooks,
 * commands, channel adapters (which publish their own commands), HTTP routes, background work and its stop, health.
 *
 * What one module hands another is declared, not looked up (fastify-plugin style): a definition names the services
 * it `provides` and `requires`, and composing the app (compose.ts) builds modules in dependency order, passes each
 * the services it requires, and fails at start, in one sentence, on a missing or circular requirement.
 */
import type { Tool } from '@openai/agents';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { CommandDef, CommandRegistry } from '../commands/registry.js';
import type { Config } from '../config/env.js';
import type { ChannelAdapter, ChannelHealth, IngressSink } from '../core/adapter.js';
import type { OfflineTurn, TurnContext, TurnHooks } from '../core/module.js';
import type { AdapterRegistry } from '../core/registry.js';
import type { Database } from '../db/client.js';
import type { Inbox } from '../queue/inbox.js';
import type { Keys } from '../queue/keys.js';
import type { Queues } from '../queue/queues.js';

export interface ModuleDeps {
  config: Config;
  log: Logger;
  database: Database;
  redis: Redis;
  /** The connection BullMQ queues (producers) share: BullMQ's scripts live there, not on `redis` (src/cli/app.ts). */
  queueRedis: Redis;
  /** A new Redis connection (BullMQ workers need their own). */
  connect(): Redis;
  /** The HTTP client for the model provider and the platforms' APIs (src/core/http-fetch.ts). */
  httpFetch: typeof fetch;
  keys: Keys;
  queues: Queues;
  inbox: Inbox;
  adapters: AdapterRegistry;
  commands: CommandRegistry;
  /** Enqueue an event as if a platform had sent it (synthetic check-ins, reminders, API runs). */
  sink: IngressSink;
  role: { gateway: boolean; worker: boolean };
  /** Development only: the web chat's ready-made API key (see src/api/dev-key.ts). */
  devApiKey?: string;
}

/**
 * The services modules hand each other, by name. Each providing module adds its entry with a declaration merge
 * (`declare module '../modules/contract.js' { interface Services { memory: ... } }`), as fastify decorators do.
 */
export interface Services {}
export type ServiceName = keyof Services;

export interface GatewayModule {
  name: string;
  tools?: Tool<TurnContext>[];
  hooks?: TurnHooks;
  commands?: CommandDef[];
  /**
   * Channel adapters the module brings (the platforms, the agent API's `api` platform), registered in every role:
   * workers deliver through them, gateways serve their routes, start them and publish commands through them.
   */
  adapters?: ChannelAdapter[];
  /** The offline model's scripted answers for this module's phrasings (development and tests, no API key). */
  offlineTurns?: OfflineTurn[];
  /** The services named in the definition's `provides`. */
  provides?: Partial<Services>;
  /** HTTP routes, registered in gateway processes (JSON bodies parsed normally). */
  routes?(app: FastifyInstance): Promise<void> | void;
  /** Background work in worker processes (own BullMQ workers, reconcilers). Returns its stop function. */
  startWorker?(): Promise<() => Promise<void>>;
  /** Background work in gateway processes. Returns its stop function. */
  startGateway?(): Promise<() => Promise<void>>;
  health?(): Record<string, ChannelHealth>;
}

export interface ModuleDefinition<R extends ServiceName = ServiceName> {
  name: string;
  /** Services of other modules this one uses: those modules are built first and their services passed in. */
  requires?: readonly R[];
  /** Services this module hands to others (set on the built module's `provides`). */
  provides?: readonly ServiceName[];
  create(deps: ModuleDeps, services: Pick<Services, R>): GatewayModule;
}

/** Keeps a definition's `requires` and the services its `create` reads in step (typed by the names it lists). */
export function defineModule<R extends ServiceName = never>(def: ModuleDefinition<R>): ModuleDefinition {
  return def as unknown as ModuleDefinition;
}
