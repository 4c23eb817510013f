/**
 * Keyless memory understands meaning: with no embedding provider the default embedder is the shipped word-vector
 * one, so a question in other words ("who is my boss?") recalls the fact ("The user's manager is Priya."), on the
 * real embedded store. The labelled set of `npm run bench:memory -- --quality` holds the targets: recall@5 >= 0.9
 * overall, every word-sharing question answered, changed values replaced, nobody else's facts returned.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLabelledSet, measureQuality } from '../../bench/memory-quality.js';
import { openDatabase, type Database } from '../../src/db/client.js';
import { createEmbedder } from '../../src/memory/embed/index.js';
import { LexicalEmbedder } from '../../src/memory/embed/lexical.js';
import { decodeWordVectors, encodeWordVectors } from '../../src/memory/embed/vector-file.js';
import { loadShippedWordVectors, WordVectorEmbedder } from '../../src/memory/embed/word-vectors.js';
import { recallFacts } from '../../src/memory/recall.js';
import { PostgresMemoryStore } from '../../src/memory/store/postgres.js';
import { createTestDatabase, testConfig, type TestDatabase } from '../helpers/services.js';

const DAY = 86_400_000;

describe('offline semantic memory (word vectors, embedded store)', () => {
  let scratch: TestDatabase;
  let database: Database;

  beforeAll(async () => {
    scratch = await createTestDatabase();
    database = openDatabase(scratch.url, 4);
  });
  afterAll(async () => {
    await database?.close();
    await scratch?.drop();
  });

  it('is the default without a key; EMBEDDING_MODEL=lexical still picks the lexical one', () => {
    expect(createEmbedder(testConfig()).model).toMatch(/^wordvec-sif-\d+k-v1$/);
    expect(createEmbedder(testConfig()).dimensions).toBe(100);
    expect(createEmbedder(testConfig({ EMBEDDING_MODEL: 'lexical' }))).toBeInstanceOf(LexicalEmbedder);
  });

  it('answers questions asked in other words, older facts included', async () => {
    const store = new PostgresMemoryStore(database.sql, database.db, createEmbedder(testConfig()));
    const user = 'local:default:paraphrase';
    const now = Date.now();
    const facts = [
      ["The user's manager is Priya.", 60],
      ["The user's wife works as a nurse.", 60],
      ['The user plays the cello.', 50],
      ["The user's favourite band is Radiohead.", 1],
      ['The user drinks tea every morning.', 1],
      ["The user's cat is named Luna.", 1],
      ['The user is organising the offsite in June.', 1],
      ['The user runs marathons.', 1],
      ['The user lives in Porto.', 1],
    ] as const;
    for (const [text, age] of facts) await store.add(user, { text, createdAt: new Date(now - age * DAY) });
    const settings = { limit: 3, maxChars: 2_000, halfLifeDays: 30 };
    const ask = async (q: string) => (await recallFacts(store, user, q, new Date(now), settings)).map((m) => m.text);
    expect((await ask('Who is my boss?'))[0]).toBe("The user's manager is Priya.");
    expect(await ask('What does my spouse do for a living?')).toContain("The user's wife works as a nurse.");
    expect(await ask('Which musical instrument do I play?')).toContain('The user plays the cello.');
  });

  it('meets the labelled-set targets (bench:memory --quality)', async () => {
    const vectors = loadShippedWordVectors()!;
    const r = await measureQuality(database, new WordVectorEmbedder(vectors), loadLabelledSet());
    expect(r.recallAt5).toBeGreaterThanOrEqual(0.9);
    expect(r.byType.lexical).toBe(1);
    expect(r.supersedeOk).toBe(true);
    expect(r.isolationOk).toBe(true);
  }, 60_000);

  it('stores vectors compactly: int8 round trip within 1%, frequency order kept', () => {
    const words = ['alpha', 'beta'];
    const vecs = [
      [0.5, -0.25, 0.125],
      [-2, 1, 0],
    ];
    const back = decodeWordVectors(encodeWordVectors(words, vecs, 3));
    expect([...back.index]).toEqual([
      ['alpha', 0],
      ['beta', 1],
    ]);
    const out = new Float32Array(3);
    back.read(1, out);
    [...out].forEach((x, d) => expect(Math.abs(x - vecs[1]![d]!)).toBeLessThan(0.02));
    expect(() => decodeWordVectors(Buffer.from('not a vector file'))).toThrow(/vector file/);
  });
});
