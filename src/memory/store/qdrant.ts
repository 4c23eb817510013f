/**
 * The production memory store on Qdrant. One collection per embedding model and dimension
 * (`memories__<model>__<dims>`), so switching models never mixes vectors; a tenant payload index on `user_key`; and
 * EVERY read and write carries a `user_key` filter (writes by id go through a filter too, so an id of another user's
 * memory matches nothing). Hybrid retrieval: a dense vector and a sparse BM25-style vector (term weights from the
 * shared tokenizer, IDF applied by Qdrant's `modifier: idf`) in the same point, fused server-side with the Query API
 * (`prefetch` per vector + `fusion: rrf`).
 */
import { randomUUID } from 'node:crypto';
import type { QdrantClient } from '@qdrant/js-client-rest';
import { sparseDocument, sparseQuery } from '../embed/tokenize.js';
import type { Embedder } from '../embed/types.js';
import { searchableText } from './codec.js';
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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const DENSE = 'dense';
export const SPARSE = 'lexical';

export function collectionName(model: string, dimensions: number): string {
  return `memories__${model.replace(/[^A-Za-z0-9_-]+/g, '_')}__${dimensions}`;
}

type Condition = Record<string, unknown>;
interface Payload {
  user_key: string;
  kind: MemoryKind;
  subject: string | null;
  text: string;
  source: string | null;
  created_at: string;
  active: boolean;
  scope?: string | null;
  shared?: boolean;
}

/** This user's points; `current` limits to memories that were not superseded. */
function userFilter(userKey: string, extra: Condition[] = [], current = true): { must: Condition[] } {
  return {
    must: [
      { key: 'user_key', match: { value: userKey } },
      ...(current ? [{ key: 'active', match: { value: true } }] : []),
      ...extra,
    ],
  };
}

/** A group sees only what was learned in it or shared by its owner; points with no scope stay private. */
function visibility(opts: VisibilityOptions): Condition[] {
  if (opts.visibleIn === undefined) return [];
  return [
    {
      should: [
        { key: 'scope', match: { value: opts.visibleIn } },
        { key: 'shared', match: { value: true } },
      ],
    },
  ];
}

function toMemory(id: string | number, p: Payload): Memory {
  return {
    id: String(id),
    userKey: p.user_key,
    kind: p.kind,
    subject: p.subject ?? null,
    text: p.text,
    source: p.source ?? null,
    scope: p.scope ?? null,
    shared: p.shared === true,
    createdAt: new Date(p.created_at),
  };
}

export class QdrantMemoryStore implements MemoryStore {
  readonly name = 'qdrant';
  readonly collection: string;
  private ready: Promise<void> | undefined;

  constructor(
    private readonly client: QdrantClient,
    private readonly embedder: Embedder,
  ) {
    this.collection = collectionName(embedder.model, embedder.dimensions);
  }

  /** Creates the collection and its payload indexes once per process (both calls are idempotent on the server). */
  private ensure(): Promise<void> {
    this.ready ??= (async () => {
      const { exists } = await this.client.collectionExists(this.collection);
      if (!exists) {
        try {
          await this.client.createCollection(this.collection, {
            vectors: { [DENSE]: { size: this.embedder.dimensions, distance: 'Cosine' } },
            sparse_vectors: { [SPARSE]: { modifier: 'idf' } },
          });
        } catch (err) {
          // Another process created it first.
          if (!(await this.client.collectionExists(this.collection)).exists) throw err;
        }
      }
      // is_tenant: Qdrant co-locates each user's points, so per-user filtered queries stay fast as the collection grows.
      await this.client.createPayloadIndex(this.collection, {
        field_name: 'user_key',
        field_schema: { type: 'keyword', is_tenant: true },
        wait: true,
      });
      await this.client.createPayloadIndex(this.collection, { field_name: 'active', field_schema: 'bool', wait: true });
      await this.client.createPayloadIndex(this.collection, {
        field_name: 'kind',
        field_schema: 'keyword',
        wait: true,
      });
      await this.client.createPayloadIndex(this.collection, {
        field_name: 'scope',
        field_schema: 'keyword',
        wait: true,
      });
      await this.client.createPayloadIndex(this.collection, { field_name: 'shared', field_schema: 'bool', wait: true });
      await this.client.createPayloadIndex(this.collection, {
        field_name: 'created_at',
        field_schema: 'datetime',
        wait: true,
      });
    })().catch((err: unknown) => {
      this.ready = undefined; // try again on the next call
      throw err;
    });
    return this.ready;
  }

  private async upsert(userKey: string, m: NewMemory): Promise<Memory> {
    await this.ensure();
    const [v] = await this.embedder.embed([searchableText(m)]);
    const id = randomUUID();
    const payload: Payload = {
      user_key: userKey,
      kind: m.kind ?? 'fact',
      subject: m.subject ?? null,
      text: m.text,
      source: m.source ?? null,
      created_at: (m.createdAt ?? new Date()).toISOString(),
      active: true,
      scope: m.scope ?? null,
      shared: m.shared ?? false,
    };
    const sparse = sparseDocument(searchableText(m));
    await this.client.upsert(this.collection, {
      wait: true,
      points: [
        {
          id,
          vector: { [DENSE]: Array.from(v!), ...(sparse.indices.length ? { [SPARSE]: sparse } : {}) },
          payload: { ...payload },
        },
      ],
    });
    return toMemory(id, payload);
  }

  add(userKey: string, m: NewMemory): Promise<Memory> {
    return this.upsert(userKey, m);
  }

  async supersede(userKey: string, oldId: string, m: NewMemory): Promise<Memory> {
    const added = await this.upsert(userKey, m);
    if (UUID.test(oldId)) {
      await this.client.setPayload(this.collection, {
        payload: { active: false, superseded_by: added.id, superseded_at: new Date().toISOString() },
        filter: userFilter(userKey, [{ has_id: [oldId] }]),
        wait: true,
      });
    }
    return added;
  }

  async delete(userKey: string, id: string | 'all'): Promise<number> {
    if (id !== 'all' && !UUID.test(id)) return 0;
    await this.ensure();
    // Superseded versions are deleted too (forgetting leaves nothing behind), but only current ones are counted:
    // they are what the user could see, as in the Postgres store.
    const extra = id === 'all' ? [] : [{ has_id: [id] }];
    const { count } = await this.client.count(this.collection, { filter: userFilter(userKey, extra), exact: true });
    await this.client.delete(this.collection, { filter: userFilter(userKey, extra, false), wait: true });
    return count;
  }

  async setShared(userKey: string, id: string, shared: boolean): Promise<boolean> {
    if (!UUID.test(id)) return false;
    await this.ensure();
    const filter = userFilter(userKey, [{ has_id: [id] }]);
    const { count } = await this.client.count(this.collection, { filter, exact: true });
    if (!count) return false;
    await this.client.setPayload(this.collection, { payload: { shared }, filter, wait: true });
    return true;
  }

  async list(userKey: string, opts: ListOptions = {}): Promise<Memory[]> {
    await this.ensure();
    const res = await this.client.scroll(this.collection, {
      filter: userFilter(userKey, [
        ...(opts.kind ? [{ key: 'kind', match: { value: opts.kind } }] : []),
        ...visibility(opts),
      ]),
      limit: opts.limit ?? 100,
      with_payload: true,
      order_by: { key: 'created_at', direction: 'desc' },
    });
    return res.points.map((p) => toMemory(p.id, p.payload as unknown as Payload));
  }

  async search(userKey: string, query: string, opts: SearchOptions): Promise<ScoredMemory[]> {
    await this.ensure();
    const [qv] = await this.embedder.embed([query]);
    const filter = userFilter(userKey, [
      ...(opts.kind ? [{ key: 'kind', match: { value: opts.kind } }] : []),
      ...visibility(opts),
    ]);
    const pool = Math.max(opts.limit * 3, 20);
    const sparse = sparseQuery(query);
    const res = await this.client.query(this.collection, {
      // The filter sits on every prefetch as well as on the fused query: no branch ever sees another user's points.
      prefetch: [
        { query: Array.from(qv!), using: DENSE, filter, limit: pool },
        ...(sparse.indices.length ? [{ query: sparse, using: SPARSE, filter, limit: pool }] : []),
      ],
      query: { fusion: 'rrf' },
      filter,
      limit: opts.limit,
      with_payload: true,
    });
    return res.points.map((p) => ({ ...toMemory(p.id, p.payload as unknown as Payload), score: p.score }));
  }
}
