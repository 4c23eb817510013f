/**
 * Capabilities beyond the spine (long-term memory, check-ins and reminders, commands and access control, the
 * agent API) plug in as modules, so the pipeline stays one path and no capability edits another's files.
 * A module can add agent tools, turn hooks, commands, channel adapters, HTTP routes and background work of its own.
 */
import type { Tool } from '@openai/agents';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { CommandDef, CommandRegistry } from '../commands/registry.js';
import type { Config } from '../config/env.js';
import type { Database } from '../db/client.js';
import type { Inbox } from '../queue/inbox.js';
import type { Keys } from '../queue/keys.js';
import type { Queues } from '../queue/queues.js';
import type { ChannelAdapter, ChannelHealth, IngressSink } from './adapter.js';
import type { AdapterRegistry } from './registry.js';
import type { ConversationRef, InboundEvent } from './types.js';

/** What the agent's tools and the turn hooks know about the turn being run. */
export interface TurnContext {
  turnId: string;
  conversationKey: string;
  ref: ConversationRef;
  /** The fresh events this turn answers, in arrival order. */
  events: InboundEvent[];
  /** The person the turn is for (the last human sender): `platform:tenant:userId`. Memory and budgets key on it. */
  userKey: string;
  sender: { id: string; name?: string };
  /** Kind of the last event: 'message' | 'edit' | 'checkin' | 'reminder'. */
  kind: InboundEvent['kind'];
  now: Date;
  /** The conversation's current session (summaries belong to it); null before its first turn is committed. */
  sessionId: string | null;
  /** Extra system instructions for this turn (recalled memories, check-in guidance), added by hooks. */
  instructions: string[];
  /** The agent that answers this turn (src/agents sets it): its name, and whether it keeps long-term memory. */
  agent?: { name: string; memory: boolean };
}

export type BeforeRun =
  /**
   * Run the agent (optionally with fewer history items, e.g. a lean check-in context). `drop`: ids of events to
   * leave out of the run (a banned or rate-limited sender's messages in a group batch): still consumed, never shown
   * to the model; later hooks and the turn context see only the rest.
   */
  | { action: 'run'; historyLimit?: number; drop?: string[] }
  /** Do not run the agent: consume the messages and answer with this text (null = say nothing). */
  | { action: 'reply'; text: string | null; outcome: string }
  /** Leave the messages in the inbox and look again later (maintenance pause); nothing is consumed. */
  | { action: 'defer'; delayMs: number };

export interface TurnOutcome {
  outcome: string;
  reply: string | null;
  inputTokens: number;
  outputTokens: number;
  model: string;
}

export interface TurnHooks {
  /** Before the agent runs. May push to `ctx.instructions`. The first non-'run' answer of any module wins. */
  beforeRun?(ctx: TurnContext): Promise<BeforeRun | void>;
  /** After the turn is committed (usage accounting, memory extraction scheduling). Failures are logged, not fatal. */
  afterCommit?(ctx: TurnContext, outcome: TurnOutcome): Promise<void>;
}

export interface ModuleDeps {
  config: Config;
  log: Logger;
  database: Database;
  redis: Redis;
  /** A new Redis connection (BullMQ workers need their own). */
  connect(): Redis;
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

export interface GatewayModule {
  name: string;
  tools?: Tool<TurnContext>[];
  hooks?: TurnHooks;
  commands?: CommandDef[];
  /**
   * Channel adapters the module brings (the agent API's `api` platform), registered with the platform adapters in
   * every role: workers deliver through them, gateways serve their routes and start them.
   */
  adapters?: ChannelAdapter[];
  /** HTTP routes, registered in gateway processes (JSON bodies parsed normally). */
  routes?(app: FastifyInstance): Promise<void> | void;
  /** Background work in worker processes (own BullMQ workers, reconcilers). Returns its stop function. */
  startWorker?(): Promise<() => Promise<void>>;
  /** Background work in gateway processes. Returns its stop function. */
  startGateway?(): Promise<() => Promise<void>>;
  health?(): Record<string, ChannelHealth>;
}
