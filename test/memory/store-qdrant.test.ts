/**
 * The Qdrant store: the contract against the loopback fake (and against a real Qdrant when QDRANT_URL is set), and
 * what the official client actually sends: collection config, the tenant index, a user filter on every read and
 * write, and the hybrid fusion query.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQdrantClient } from '../../src/memory/store/index.js';
import { collectionName, QdrantMemoryStore } from '../../src/memory/store/qdrant.js';
import { startFakeQdrant, type FakeQdrant, type RecordedRequest } from '../fakes/qdrant/server.js';
import { openFakeQdrantStore, openRealQdrantStore, TestEmbedder } from './helpers.js';
import { storeContract } from './store-contract.js';

storeContract('qdrant (loopback fake)', openFakeQdrantStore);
storeContract(
  'qdrant (real, QDRANT_URL)',
  () => openRealQdrantStore(process.env.QDRANT_URL!, process.env.QDRANT_API_KEY),
  {
    skip: !process.env.QDRANT_URL,
  },
);

const mustOf = (r: RecordedRequest): unknown[] => r.body?.filter?.must ?? [];
const byUser = (userKey: string) => ({ key: 'user_key', match: { value: userKey } });

describe('qdrant store: what the client sends', () => {
  let fake: FakeQdrant;
  let store: QdrantMemoryStore;
  const embedder = new TestEmbedder(32, 'text-embedding-3-small');
  const alice = 'slack:T1:alice';

  beforeAll(async () => {
    fake = await startFakeQdrant();
    store = new QdrantMemoryStore(createQdrantClient(fake.url, 'secret-key'), embedder);
    const blue = await store.add(alice, { text: "The user's favourite colour is blue.", subject: 'favorite color' });
    await store.supersede(alice, blue.id, { text: "The user's favourite colour is green.", subject: 'favorite color' });
    await store.add(alice, { text: 'The user has a cat called Miso.' });
    await store.search(alice, 'favourite colour', { limit: 4 });
    await store.list(alice, { kind: 'fact' });
    await store.delete(alice, 'all');
  });
  afterAll(async () => fake?.close());

  it('names the collection after the embedding model and dimension, and configures dense + sparse (idf) vectors', () => {
    expect(store.collection).toBe('memories__text-embedding-3-small__32');
    expect(collectionName('nomic/embed:v1.5', 768)).toBe('memories__nomic_embed_v1_5__768');
    const [create] = fake.calls(store.collection, '', 'PUT');
    expect(create?.body).toEqual({
      vectors: { dense: { size: 32, distance: 'Cosine' } },
      sparse_vectors: { lexical: { modifier: 'idf' } },
    });
    expect(fake.calls(store.collection, '', 'PUT')).toHaveLength(1); // created once per process
    expect(
      fake.requests
        .filter((r) => r.path.startsWith(`/collections/${store.collection}`))
        .every((r) => r.headers['api-key'] === 'secret-key'),
    ).toBe(true);
  });

  it('indexes user_key as a tenant keyword, plus the fields filtered and ordered on', () => {
    const fields = fake.calls(store.collection, 'index', 'PUT').map((r) => r.body);
    expect(fields).toContainEqual({ field_name: 'user_key', field_schema: { type: 'keyword', is_tenant: true } });
    expect(fields.map((f) => f.field_name).sort()).toEqual([
      'active',
      'created_at',
      'kind',
      'scope',
      'shared',
      'user_key',
    ]);
  });

  it('writes points carrying the user key, with a dense and a sparse vector', () => {
    const upserts = fake.calls(store.collection, 'points', 'PUT');
    expect(upserts).toHaveLength(3);
    for (const u of upserts) {
      const [p] = u.body.points;
      expect(p.payload).toMatchObject({ user_key: alice, active: true });
      expect(p.vector.dense).toHaveLength(32);
      expect(p.vector.lexical.indices.length).toBeGreaterThan(0);
      expect(u.query.wait).toBe('true');
    }
  });

  it('filters every point read and write by the user key (supersede, count, delete, scroll, query)', () => {
    const pointOps = fake.requests.filter(
      (r) => r.method === 'POST' && r.path.startsWith(`/collections/${store.collection}/points/`),
    );
    expect(pointOps.map((r) => r.path.split('/').pop()).sort()).toEqual([
      'count',
      'delete',
      'payload',
      'query',
      'scroll',
    ]);
    for (const r of pointOps) expect(mustOf(r)).toContainEqual(byUser(alice));
    const [setPayload] = fake.calls(store.collection, 'points/payload');
    expect(mustOf(setPayload!)).toEqual(expect.arrayContaining([{ has_id: [expect.any(String)] }]));
    expect(setPayload!.body.payload).toMatchObject({ active: false });
  });

  it('queries hybrid: a dense and a sparse prefetch, each filtered by user, fused with RRF', () => {
    const [q] = fake.calls(store.collection, 'points/query');
    expect(q!.body.query).toEqual({ fusion: 'rrf' });
    expect(q!.body.prefetch.map((p: { using: string }) => p.using)).toEqual(['dense', 'lexical']);
    for (const p of q!.body.prefetch) expect(p.filter.must).toContainEqual(byUser(alice));
    expect(q!.body.prefetch[0].query).toHaveLength(32);
    expect(q!.body.prefetch[1].query).toMatchObject({ indices: expect.any(Array), values: expect.any(Array) });
    expect(mustOf(q!)).toEqual(expect.arrayContaining([byUser(alice), { key: 'active', match: { value: true } }]));
  });

  it('keeps models apart: another embedding model or dimension gets its own collection', async () => {
    const other = new QdrantMemoryStore(createQdrantClient(fake.url), new TestEmbedder(48, 'text-embedding-3-small'));
    await other.add(alice, { text: 'The user speaks Portuguese.' });
    expect(other.collection).toBe('memories__text-embedding-3-small__48');
    expect((await other.list(alice)).map((m) => m.text)).toEqual(['The user speaks Portuguese.']);
    expect(fake.collections.get(store.collection)?.points.size).toBe(0); // deleted above; nothing leaked across
  });

  it('fails a call while Qdrant is unavailable, and sets the collection up on the next one', async () => {
    const flaky = new QdrantMemoryStore(createQdrantClient(fake.url), new TestEmbedder(16));
    fake.failNext(1);
    await expect(flaky.list(alice)).rejects.toThrow();
    expect(fake.collections.has(flaky.collection)).toBe(false);
    await flaky.add(alice, { text: 'The user likes jazz.' });
    expect((await flaky.search(alice, 'jazz', { limit: 3 })).map((m) => m.text)).toEqual(['The user likes jazz.']);
  });
});
