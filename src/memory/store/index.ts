/** Which store this process uses: Qdrant when QDRANT_URL is set, else the embedded Postgres / CockroachDB store. */
import { QdrantClient } from '@qdrant/js-client-rest';
import type { Config } from '../../config/env.js';
import type { Database } from '../../db/client.js';
import type { Embedder } from '../embed/types.js';
import type { MemoryStore } from '../types.js';
import { instrumented } from './instrumented.js';
import { PostgresMemoryStore } from './postgres.js';
import { QdrantMemoryStore } from './qdrant.js';

export function createQdrantClient(url: string, apiKey?: string): QdrantClient {
  // No version probe at start-up: it only logs, and would run in every process, test and CLI command.
  return new QdrantClient({ url, apiKey, checkCompatibility: false, timeout: 10_000 });
}

export function createStore(config: Config, database: Database, embedder: Embedder): MemoryStore {
  if (config.QDRANT_URL)
    return instrumented(new QdrantMemoryStore(createQdrantClient(config.QDRANT_URL, config.QDRANT_API_KEY), embedder));
  return instrumented(new PostgresMemoryStore(database.sql, database.db, embedder));
}
