/** What the api module's route builders share. */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { AgentCatalog } from '../agents/catalog.js';
import type { Config } from '../config/env.js';
import type { Db } from '../db/client.js';
import type { LiveFeed } from '../live/feed.js';
import type { CronService } from './cron-service.js';
import type { ApiKeys } from './ids.js';
import type { RunService } from './run-service.js';
import type { RunWaiters } from './waiters.js';

export interface ApiContext {
  config: Config;
  db: Db;
  redis: Redis;
  log: Logger;
  keys: ApiKeys;
  runs: RunService;
  crons: CronService;
  waiters: RunWaiters;
  /** The model's live tokens (gateway processes; src/live). */
  live?: LiveFeed;
  /** The configured agents (src/agents): each is an assistant, `assistant_id` = its name. */
  agents?: AgentCatalog;
}
