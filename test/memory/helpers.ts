/** Store set-ups shared by the memory tests: each opens its own database or fake server and removes it afterwards. */
import { randomBytes } from 'node:crypto';
import { openDatabase } from '../../src/db/client.js';
import { LexicalEmbedder } from '../../src/memory/embed/lexical.js';
import type { Embedder } from '../../src/memory/embed/types.js';
import { createQdrantClient } from '../../src/memory/store/index.js';
import { PostgresMemoryStore } from '../../src/memory/store/postgres.js';
import { QdrantMemoryStore } from '../../src/memory/store/qdrant.js';
import { startFakeQdrant, type FakeQdrant } from '../fakes/qdrant/server.js';
import { createTestDatabase } from '../helpers/services.js';
import type { StoreHarness } from './store-contract.js';

/** The offline embedder under a model name of its own, so a test's Qdrant collection is its own too. */
export class TestEmbedder implements Embedder {
  private readonly inner: LexicalEmbedder;
  constructor(
    readonly dimensions = 64,
    readonly model = `lexical-test-${randomBytes(3).toString('hex')}`,
  ) {
    this.inner = new LexicalEmbedder(dimensions);
  }

  embed(texts: string[]): Promise<Float32Array[]> {
    return this.inner.embed(texts);
  }
}

export async function openPostgresStore(): Promise<StoreHarness> {
  const scratch = await createTestDatabase();
  const database = openDatabase(scratch.url, 4);
  return {
    store: new PostgresMemoryStore(database.sql, database.db, new LexicalEmbedder(64)),
    async close() {
      await database.close();
      await scratch.drop();
    },
  };
}

export async function openFakeQdrantStore(): Promise<StoreHarness & { fake: FakeQdrant; store: QdrantMemoryStore }> {
  const fake = await startFakeQdrant();
  const store = new QdrantMemoryStore(createQdrantClient(fake.url), new TestEmbedder());
  return { fake, store, close: () => fake.close() };
}

/** A real Qdrant (QDRANT_URL): a collection of this run's own, deleted afterwards. */
export async function openRealQdrantStore(url: string, apiKey?: string): Promise<StoreHarness> {
  const client = createQdrantClient(url, apiKey);
  const store = new QdrantMemoryStore(client, new TestEmbedder());
  return {
    store,
    async close() {
      await client.deleteCollection(store.collection).catch(() => undefined);
    },
  };
}
