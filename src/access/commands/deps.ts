/** What the access module's commands work with. */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../../config/env.js';
import type { AdapterRegistry } from '../../core/registry.js';
import type { Db } from '../../db/client.js';
import type { Queues } from '../../queue/queues.js';
import type { AccessKeys, AccessPolicy } from '../policy.js';
import type { Ports } from '../ports.js';

export interface CommandDeps {
  db: Db;
  redis: Redis;
  keys: AccessKeys;
  policy: AccessPolicy;
  config: Config;
  queues: Queues;
  adapters: AdapterRegistry;
  log: Logger;
  version: string;
  startedAt: number;
  ports: Ports;
}

export const say = (text: string, ephemeral = true) => ({ text, ephemeral });
