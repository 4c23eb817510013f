/** The store contract on the embedded store, on a real Postgres database of this file's own. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.js';
import { LexicalEmbedder } from '../../src/memory/embed/lexical.js';
import { PostgresMemoryStore } from '../../src/memory/store/postgres.js';
import { createTestDatabase } from '../helpers/services.js';
import { openPostgresStore } from './helpers.js';
import { storeContract } from './store-contract.js';

storeContract('postgres', openPostgresStore);

describe('recall for a user with no memories', () => {
  let scratch: Awaited<ReturnType<typeof createTestDatabase>>;
  let database: Database;
  const embedded: string[] = [];
  let store: PostgresMemoryStore;
  beforeAll(async () => {
    scratch = await createTestDatabase();
    database = openDatabase(scratch.url, 2);
    const inner = new LexicalEmbedder(64);
    // Counts what would be paid embeddings requests with a real provider.
    const embedder = {
      model: 'lexical-count',
      dimensions: 64,
      embed: (t: string[]) => (embedded.push(...t), inner.embed(t)),
    };
    store = new PostgresMemoryStore(database.sql, database.db, embedder);
  });
  afterAll(async () => {
    await database?.close();
    await scratch?.drop();
  });

  it('asks the embedder nothing: a new user costs no embeddings request per turn', async () => {
    expect(await store.search('local:t:new', 'what is my favourite colour?', { limit: 5, kind: 'fact' })).toEqual([]);
    expect(embedded).toEqual([]);
  });

  it('still embeds the query once the user has memories, and finds them', async () => {
    await store.add('local:t:old', { text: "The user's favourite colour is teal." });
    embedded.length = 0;
    const hits = await store.search('local:t:old', 'what is my favourite colour?', { limit: 5, kind: 'fact' });
    expect(hits.map((h) => h.text)).toEqual(["The user's favourite colour is teal."]);
    expect(embedded).toEqual(['what is my favourite colour?']);
  });
});
