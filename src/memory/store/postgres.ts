/**
 * The embedded memory store on Postgres / CockroachDB: per-user hybrid search with no extensions (no pgvector, no
 * tsvector: CockroachDB lacks or only partly has them).
 *
 * A search reads only this user's current rows (partial index on user_key) and only their ~100-byte signatures, as
 * one aggregated value, and scores them in the worker: BM25 over the terms (exact, IDF over the user's own memories, as
 * Qdrant's idf modifier does over a collection) and sign-bit agreement of the dense vector. The best dense
 * candidates (oversampled) are rescored exactly with their int8 vectors, read by primary key with the text; the two
 * are fused by score (cosine + a weighted relative BM25, rank.ts `blend`), which keeps relevance gaps that the
 * recency weighting in recall.ts must not overturn. No ANN index: nothing is missed for lack of an index, and
 * 10,000 memories per user stay inside the recall budget (bench/memory.ts). Writes are write-only transactions.
 */
import { randomUUID } from 'node:crypto';
import { and, eq, isNull } from 'drizzle-orm';
import type { Sql } from 'postgres';
import { withTx, type Db } from '../../db/client.js';
import { retrySerializable } from '../../db/retry.js';
import { bm25Tf } from '../embed/tokenize.js';
import type { Embedder } from '../embed/types.js';
import { memories } from '../schema.js';
import type {
  ListOptions,
  Memory,
  MemoryKind,
  MemoryStore,
  NewMemory,
  ScoredMemory,
  SearchOptions,
  VisibilityOptions,
} from '../types.js';
import { cosine, encodeSignature, encodeVector, queryTermIndex, scanSignatures, searchableText } from './codec.js';
import { blend, idf, topK } from './rank.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Dense candidates rescored exactly, at least. */
const OVERSAMPLE = 100;
/**
 * Weight of the best lexical match next to cosine similarity (bench:memory --quality: 0.15-0.5 score alike; RRF,
 * which flattens relevance below what recency weighting moves, scored 0.85 recall@5 against 0.93 with this).
 */
const LEXICAL_WEIGHT = 0.3;

interface Row {
  id: string;
  user_key: string;
  kind: string;
  subject: string | null;
  text: string;
  source: string | null;
  scope: string | null;
  shared: boolean;
  created_at: Date;
}

function toMemory(r: Row): Memory {
  return {
    id: r.id,
    userKey: r.user_key,
    kind: r.kind as MemoryKind,
    subject: r.subject,
    text: r.text,
    source: r.source,
    scope: r.scope,
    shared: r.shared,
    createdAt: new Date(r.created_at),
  };
}

export class PostgresMemoryStore implements MemoryStore {
  readonly name = 'postgres';
  private readonly modelKey: string;

  constructor(
    private readonly sql: Sql,
    private readonly db: Db,
    private readonly embedder: Embedder,
  ) {
    this.modelKey = `${embedder.model}:${embedder.dimensions}`;
  }

  private async row(userKey: string, m: NewMemory) {
    const indexed = searchableText(m);
    const [v] = await this.embedder.embed([indexed]);
    const id = randomUUID();
    return {
      id,
      userKey,
      kind: m.kind ?? 'fact',
      subject: m.subject ?? null,
      text: m.text,
      source: m.source ?? null,
      scope: m.scope ?? null,
      shared: m.shared ?? false,
      embeddingModel: this.modelKey,
      sig: encodeSignature(id, this.modelKey, indexed, v!),
      vec: encodeVector(v!),
      createdAt: m.createdAt ?? new Date(),
    };
  }

  private static memory(r: Awaited<ReturnType<PostgresMemoryStore['row']>>): Memory {
    return {
      id: r.id,
      userKey: r.userKey,
      kind: r.kind,
      subject: r.subject,
      text: r.text,
      source: r.source,
      scope: r.scope,
      shared: r.shared,
      createdAt: r.createdAt,
    };
  }

  async add(userKey: string, m: NewMemory): Promise<Memory> {
    const row = await this.row(userKey, m);
    await withTx(this.db, (tx) => tx.insert(memories).values(row));
    return PostgresMemoryStore.memory(row);
  }

  async supersede(userKey: string, oldId: string, m: NewMemory): Promise<Memory> {
    const row = await this.row(userKey, m);
    await withTx(this.db, async (tx) => {
      await tx.insert(memories).values(row);
      if (UUID.test(oldId)) {
        await tx
          .update(memories)
          .set({ supersededAt: new Date(), supersededBy: row.id })
          .where(and(eq(memories.id, oldId), eq(memories.userKey, userKey), isNull(memories.supersededAt)));
      }
    });
    return PostgresMemoryStore.memory(row);
  }

  async delete(userKey: string, id: string | 'all'): Promise<number> {
    if (id !== 'all' && !UUID.test(id)) return 0;
    const where =
      id === 'all' ? eq(memories.userKey, userKey) : and(eq(memories.userKey, userKey), eq(memories.id, id));
    // Retired versions go too (nothing is left behind), but only current ones count: they are what the user saw.
    const gone = await withTx(this.db, (tx) =>
      tx.delete(memories).where(where).returning({ supersededAt: memories.supersededAt }),
    );
    return gone.filter((r) => r.supersededAt === null).length;
  }

  /** A group sees only what was learned in it or shared by its owner; older rows with no scope stay private. */
  private visible(opts: VisibilityOptions) {
    return opts.visibleIn === undefined ? this.sql`` : this.sql`and (scope = ${opts.visibleIn} or shared)`;
  }

  async setShared(userKey: string, id: string, shared: boolean): Promise<boolean> {
    if (!UUID.test(id)) return false;
    const rows = await withTx(this.db, (tx) =>
      tx
        .update(memories)
        .set({ shared })
        .where(and(eq(memories.id, id), eq(memories.userKey, userKey), isNull(memories.supersededAt)))
        .returning({ id: memories.id }),
    );
    return rows.length > 0;
  }

  async list(userKey: string, opts: ListOptions = {}): Promise<Memory[]> {
    const kind = opts.kind ? this.sql`and kind = ${opts.kind}` : this.sql``;
    const visible = this.visible(opts);
    const rows = await retrySerializable(
      () => this.sql<Row[]>`
      select id, user_key, kind, subject, text, source, scope, shared, created_at from memories
      where user_key = ${userKey} and superseded_at is null ${kind} ${visible}
      order by created_at desc limit ${opts.limit ?? 100}`,
    );
    return rows.map(toMemory);
  }

  async search(userKey: string, query: string, opts: SearchOptions): Promise<ScoredMemory[]> {
    const kind = opts.kind ? this.sql`and kind = ${opts.kind}` : this.sql``;
    const visible = this.visible(opts);
    // One aggregated value instead of one row per memory: far less for the client to parse (codec.ts).
    const [agg] = await retrySerializable(
      () => this.sql<{ sigs: Buffer | null }[]>`
      select string_agg(sig, ''::bytea) as sigs from memories
      where user_key = ${userKey} and superseded_at is null ${kind} ${visible}`,
    );
    // The query is embedded only for a user with memories to rank: most turns of new users (and every turn of
    // someone who never said anything memorable) skip a paid embeddings request and its round trip.
    if (!agg?.sigs) return [];
    const [qv] = await this.embedder.embed([query]);
    const terms = queryTermIndex(query);
    const scan = scanSignatures(agg.sigs, this.modelKey, qv!, terms);
    if (!scan.count) return [];
    const pool = Math.max(opts.limit * 3, 20);

    const df = new Array<number>(terms.size).fill(0);
    for (const m of scan.matches) for (const [qi] of m) df[qi]!++;
    const lexical = new Float64Array(scan.count).fill(NaN);
    scan.matches.forEach((m, i) => {
      if (m.length)
        lexical[i] = m.reduce((sum, [qi, tf]) => sum + idf(scan.count, df[qi]!) * bm25Tf(tf, scan.docLength[i]!), 0);
    });
    const lexicalTop = topK(lexical, pool);
    const candidates = [...new Set([...topK(scan.bits, Math.max(OVERSAMPLE, pool * 4)), ...lexicalTop])];

    const ids = candidates.map((i) => scan.id(i));
    const rows = await retrySerializable(
      () => this.sql<(Row & { vec: Buffer; same: boolean })[]>`
      select id, user_key, kind, subject, text, source, scope, shared, created_at, vec, embedding_model = ${this.modelKey} as same
      from memories where user_key = ${userKey} and superseded_at is null ${visible} and id in ${this.sql(ids)}`,
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    const dense = new Float64Array(scan.count).fill(NaN);
    for (const i of candidates) {
      const r = byId.get(scan.id(i));
      if (r?.same) dense[i] = cosine(qv!, r.vec) ?? NaN;
    }
    const fused = blend(dense, lexical, [...new Set([...topK(dense, pool), ...lexicalTop])], LEXICAL_WEIGHT);
    return [...fused.entries()]
      .sort((a, b) => b[1] - a[1])
      .flatMap(([i, score]) => {
        const r = byId.get(scan.id(i));
        return r ? [{ ...toMemory(r), score }] : [];
      })
      .slice(0, opts.limit);
  }
}
