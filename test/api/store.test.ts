/** The LangGraph store through the real SDK client: put, get (missing -> null), search, delete, namespaces, per-key scoping. */
import type { Client } from '@langchain/langgraph-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawApi, startApiApp, type ApiTestApp } from './helpers.js';

let app: ApiTestApp;
let a: Client;
let b: Client;
let keyA: string;

beforeAll(async () => {
  app = await startApiApp();
  const ka = await app.newClient('store-a');
  a = ka.client;
  keyA = ka.key;
  b = (await app.newClient('store-b')).client;
});
afterAll(async () => app?.close());

describe('store', () => {
  it('put then get returns the item; a missing item is null (200), not 404; put replaces', async () => {
    await a.store.putItem(['prefs', 'alice'], 'theme', { color: 'dark', size: 12 });
    const item = await a.store.getItem(['prefs', 'alice'], 'theme');
    expect(item).toMatchObject({ namespace: ['prefs', 'alice'], key: 'theme', value: { color: 'dark', size: 12 } });

    expect(await a.store.getItem(['prefs', 'alice'], 'nope')).toBeNull();
    const raw = await rawApi(app, 'GET', '/store/items?namespace=prefs.alice&key=nope', { key: keyA });
    expect(raw.status).toBe(200);
    expect(raw.body).toBeNull();

    await a.store.putItem(['prefs', 'alice'], 'theme', { color: 'light' });
    expect((await a.store.getItem(['prefs', 'alice'], 'theme'))!.value).toEqual({ color: 'light' });
  });

  it('search by namespace prefix, by exact-match filter and by text query', async () => {
    await a.store.putItem(['docs', 'team1'], 'd1', { kind: 'note', text: 'the quick brown fox' });
    await a.store.putItem(['docs', 'team1'], 'd2', { kind: 'todo', text: 'buy milk' });
    await a.store.putItem(['docs', 'team2'], 'd3', { kind: 'note', text: 'lazy dog' });
    await a.store.putItem(['other'], 'o1', { kind: 'note', text: 'unrelated' });

    const keys = (r: { items: { key: string }[] }) => r.items.map((i) => i.key).sort();
    expect(keys(await a.store.searchItems(['docs']))).toEqual(['d1', 'd2', 'd3']);
    expect(keys(await a.store.searchItems(['docs', 'team1']))).toEqual(['d1', 'd2']);
    expect(keys(await a.store.searchItems(['docs'], { filter: { kind: 'note' } }))).toEqual(['d1', 'd3']);
    expect(keys(await a.store.searchItems(['docs'], { query: 'brown' }))).toEqual(['d1']);
    expect((await a.store.searchItems(['docs'], { limit: 2 })).items).toHaveLength(2);
    expect(keys(await a.store.searchItems(['nothing-here']))).toEqual([]);
  });

  it('delete removes the item', async () => {
    await a.store.putItem(['tmp'], 'gone', { x: 1 });
    await a.store.deleteItem(['tmp'], 'gone');
    expect(await a.store.getItem(['tmp'], 'gone')).toBeNull();
    expect((await a.store.searchItems(['tmp'])).items).toEqual([]);
  });

  it('lists namespaces with prefix and max_depth', async () => {
    await a.store.putItem(['ns', 'x', 'deep'], 'k', { v: 1 });
    await a.store.putItem(['ns', 'y'], 'k', { v: 2 });
    const all = (await a.store.listNamespaces()).namespaces;
    expect(all).toEqual(
      expect.arrayContaining([
        ['ns', 'x', 'deep'],
        ['ns', 'y'],
      ]),
    );
    expect((await a.store.listNamespaces({ prefix: ['ns'] })).namespaces).toEqual([
      ['ns', 'x', 'deep'],
      ['ns', 'y'],
    ]);
    expect((await a.store.listNamespaces({ prefix: ['ns'], maxDepth: 2 })).namespaces).toEqual([
      ['ns', 'x'],
      ['ns', 'y'],
    ]);
  });

  it('rejects an invalid body with 422 (the SDK checks labels itself, so send it raw)', async () => {
    const dotted = await rawApi(app, 'PUT', '/store/items', {
      key: keyA,
      body: { namespace: ['bad.label'], key: 'k', value: { v: 1 } },
    });
    expect(dotted.status).toBe(422);
    expect(dotted.body.detail).toMatch(/namespace/);
    expect(
      (
        await rawApi(app, 'PUT', '/store/items', {
          key: keyA,
          body: { namespace: ['ok'], key: 'k', value: 'not an object' },
        })
      ).status,
    ).toBe(422);
    expect(await a.store.getItem(['ok'], 'k')).toBeNull();
  });

  it("is scoped per API key: key B sees none of key A's items and has its own", async () => {
    await a.store.putItem(['shared-name'], 'item', { owner: 'a' });
    expect(await b.store.getItem(['shared-name'], 'item')).toBeNull();
    expect((await b.store.searchItems(['shared-name'])).items).toEqual([]);
    expect((await b.store.listNamespaces()).namespaces).toEqual([]);

    await b.store.putItem(['shared-name'], 'item', { owner: 'b' });
    await b.store.deleteItem(['prefs', 'alice'], 'theme'); // B deleting "the same" item does not touch A's
    expect((await a.store.getItem(['shared-name'], 'item'))!.value).toEqual({ owner: 'a' });
    expect((await b.store.getItem(['shared-name'], 'item'))!.value).toEqual({ owner: 'b' });
    expect(await a.store.getItem(['prefs', 'alice'], 'theme')).not.toBeNull();
  });
});
