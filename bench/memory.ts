/**
 * Recall latency of the embedded (Postgres) memory store at 10,000 memories per user, and recall quality.
 *
 *   npm run bench:memory -- [--memories 10000] [--users 4] [--queries 300] [--dims 256] [--embedder lexical|wordvec]
 *   npm run bench:memory -- --quality
 *
 * --quality: the labelled set (bench/memory-quality.ts), one JSON line per embedder available:
 * {"embedder","recallAt5","recallAt10","mrr","supersedeOk","isolationOk","p95Ms","byType"}.
 *
 * Creates a scratch database (TEST_DATABASE_URL's server), bulk-loads synthetic facts per user with the same
 * encodings the store writes, then times `store.search` (query embedding + per-user scan + scoring + text fetch) for
 * random users, after a warm-up. `--dims 1536` shows what OpenAI-sized vectors cost. The last line is JSON:
 * {"store","memoriesPerUser","users","p50Ms","p95Ms"}.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { openDatabase } from '../src/db/client.js';
import { LexicalEmbedder } from '../src/memory/embed/lexical.js';
import type { Embedder } from '../src/memory/embed/types.js';
import { loadShippedWordVectors, WordVectorEmbedder } from '../src/memory/embed/word-vectors.js';
import { encodeSignature, encodeVector } from '../src/memory/store/codec.js';
import { PostgresMemoryStore } from '../src/memory/store/postgres.js';
import { createTestDatabase } from '../test/helpers/services.js';
import { availableEmbedders, loadLabelledSet, measureQuality } from './memory-quality.js';
import { percentile } from './stats.js';

const { values } = parseArgs({
  options: {
    memories: { type: 'string', default: '10000' },
    users: { type: 'string', default: '4' },
    queries: { type: 'string', default: '300' },
    dims: { type: 'string', default: '256' },
    embedder: { type: 'string', default: 'lexical' },
    quality: { type: 'boolean', default: false },
  },
});
const perUser = Number(values.memories);
const users = Number(values.users);
const queries = Number(values.queries);
function benchEmbedder(): Embedder {
  if (values.embedder === 'lexical') return new LexicalEmbedder(Number(values.dims));
  const vectors = loadShippedWordVectors();
  if (values.embedder !== 'wordvec' || !vectors) {
    throw new Error('--embedder: lexical, or wordvec (needs the vector file)');
  }
  return new WordVectorEmbedder(vectors);
}
const embedder = benchEmbedder();

// Deterministic synthetic facts: "<user>'s <attribute> is <value> <value>" over a few thousand made-up words.
let seed = 42;
const rand = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
const syllables = [
  'ka',
  'lo',
  'mi',
  'ren',
  'ta',
  'vo',
  'si',
  'dur',
  'pel',
  'an',
  'to',
  'qui',
  'ber',
  'nes',
  'ol',
  'ix',
];
const word = () =>
  Array.from({ length: 2 + Math.floor(rand() * 2) }, () => syllables[Math.floor(rand() * syllables.length)]).join('');
const vocab = Array.from({ length: 3000 }, word);
const pick = () => vocab[Math.floor(rand() * vocab.length)]!;
const fact = () =>
  `The user's ${pick()} ${pick()} is ${pick()} ${pick()} and they mentioned ${pick()} on a ${pick()} day.`;

const pct = (xs: number[], p: number) => percentile(xs, p);

async function quality(): Promise<void> {
  const scratch = await createTestDatabase();
  const database = openDatabase(scratch.url, 4);
  try {
    const set = loadLabelledSet();
    for (const e of availableEmbedders()) {
      const { misses, ...r } = await measureQuality(database, e, set);
      for (const m of misses) console.error(`  ${e.model} missed in top 5: ${m}`);
      console.log(JSON.stringify(r));
    }
  } finally {
    await database.close();
    await scratch.drop();
  }
}

async function main(): Promise<void> {
  if (values.quality) return quality();
  const scratch = await createTestDatabase();
  const database = openDatabase(scratch.url, 4);
  try {
    const modelKey = `${embedder.model}:${embedder.dimensions}`;
    const keys = Array.from({ length: users }, (_, i) => `bench:default:user${i}`);
    const loadStart = Date.now();
    for (const userKey of keys) {
      for (let off = 0; off < perUser; off += 1000) {
        const texts = Array.from({ length: Math.min(1000, perUser - off) }, fact);
        const vecs = await embedder.embed(texts);
        const rows = texts.map((text, i) => {
          const id = randomUUID();
          return {
            id,
            user_key: userKey,
            kind: 'fact',
            subject: null,
            text,
            source: null,
            embedding_model: modelKey,
            sig: encodeSignature(id, modelKey, text, vecs[i]!),
            vec: encodeVector(vecs[i]!),
            created_at: new Date(Date.now() - Math.floor(rand() * 365 * 86_400_000)).toISOString(),
          };
        });
        await database.sql`insert into memories ${database.sql(rows)}`;
      }
    }
    await database.sql`analyze memories`;
    console.error(`loaded ${users} x ${perUser} memories in ${((Date.now() - loadStart) / 1000).toFixed(1)} s`);

    const store = new PostgresMemoryStore(database.sql, database.db, embedder);
    const ask = () =>
      store.search(keys[Math.floor(rand() * keys.length)]!, `what is my ${pick()} ${pick()}?`, { limit: 8 });
    for (let i = 0; i < 30; i++) await ask();
    const times: number[] = [];
    for (let i = 0; i < queries; i++) {
      const t = performance.now();
      const hits = await ask();
      times.push(performance.now() - t);
      if (!hits.length) throw new Error('a search returned nothing');
    }
    const round = (x: number) => Math.round(x * 100) / 100;
    console.error(
      `dims=${embedder.dimensions} queries=${queries} p99=${round(pct(times, 99))} ms max=${round(Math.max(...times))} ms`,
    );
    console.log(
      JSON.stringify({
        store: 'postgres',
        memoriesPerUser: perUser,
        users,
        p50Ms: round(pct(times, 50)),
        p95Ms: round(pct(times, 95)),
      }),
    );
  } finally {
    await database.close();
    await scratch.drop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
