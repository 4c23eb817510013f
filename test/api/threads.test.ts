/** Assistants and threads through the real LangGraph SDK client: create (if_exists), get, search, update, delete, state, history. */
import { randomUUID } from 'node:crypto';
import type { Client } from '@langchain/langgraph-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastAi, startApiApp, statusOf, userInput, type ApiTestApp } from './helpers.js';

let app: ApiTestApp;
let client: Client;
let other: Client;

beforeAll(async () => {
  app = await startApiApp();
  client = (await app.newClient('threads-a')).client;
  other = (await app.newClient('threads-b')).client;
});
afterAll(async () => app?.close());

describe('assistants', () => {
  it('lists the one agent and fetches it by graph id and assistant id, with schemas', async () => {
    const found = await client.assistants.search({ graphId: 'agent' });
    expect(found).toHaveLength(1);
    const a = found[0]!;
    expect(a.graph_id).toBe('agent');
    expect((await client.assistants.get('agent')).assistant_id).toBe(a.assistant_id);
    expect((await client.assistants.get(a.assistant_id)).graph_id).toBe('agent');
    const schemas = await client.assistants.getSchemas('agent');
    expect(schemas.input_schema).toMatchObject({ properties: { messages: { type: 'array' } } });
    expect(await statusOf(client.assistants.get(randomUUID()))).toBe(404);
  });
});

describe('threads', () => {
  it('creates a thread with metadata and gets it back', async () => {
    const t = await client.threads.create({ metadata: { project: 'alpha', n: 1 } });
    expect(t.thread_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(t.status).toBe('idle');
    const got = await client.threads.get(t.thread_id);
    expect(got.metadata).toMatchObject({ project: 'alpha', n: 1 });
    expect(got.values).toEqual({ messages: [] });
  });

  it('if_exists: raise answers 409, do_nothing returns the existing thread unchanged', async () => {
    const id = randomUUID();
    await client.threads.create({ threadId: id, metadata: { v: 'first' } });
    expect(await statusOf(client.threads.create({ threadId: id, metadata: { v: 'second' } }))).toBe(409);
    expect(await statusOf(client.threads.create({ threadId: id, ifExists: 'raise' }))).toBe(409);
    const same = await client.threads.create({ threadId: id, ifExists: 'do_nothing', metadata: { v: 'third' } });
    expect(same.thread_id).toBe(id);
    expect(same.metadata).toMatchObject({ v: 'first' });
  });

  it('searches by metadata and ids, newest first, with limit', async () => {
    const tag = randomUUID();
    const a = await client.threads.create({ metadata: { tag, color: 'red' } });
    const b = await client.threads.create({ metadata: { tag, color: 'blue' } });
    const all = await client.threads.search({ metadata: { tag } });
    expect(all.map((t) => t.thread_id)).toEqual([b.thread_id, a.thread_id]);
    expect((await client.threads.search({ metadata: { tag, color: 'red' } })).map((t) => t.thread_id)).toEqual([
      a.thread_id,
    ]);
    expect((await client.threads.search({ metadata: { tag }, limit: 1 })).map((t) => t.thread_id)).toEqual([
      b.thread_id,
    ]);
    expect((await client.threads.search({ ids: [a.thread_id] })).map((t) => t.thread_id)).toEqual([a.thread_id]);
    expect(await client.threads.count({ metadata: { tag } })).toBe(2);
  });

  it('update merges metadata', async () => {
    const t = await client.threads.create({ metadata: { keep: 1, change: 'old' } });
    const u = await client.threads.update(t.thread_id, { metadata: { change: 'new', added: true } });
    expect(u.metadata).toMatchObject({ keep: 1, change: 'new', added: true });
    expect((await client.threads.get(t.thread_id)).metadata).toMatchObject({ keep: 1, change: 'new', added: true });
  });

  it('delete removes the thread (404 afterwards, gone from search)', async () => {
    const tag = randomUUID();
    const t = await client.threads.create({ metadata: { tag } });
    await client.threads.delete(t.thread_id);
    expect(await statusOf(client.threads.get(t.thread_id))).toBe(404);
    expect(await client.threads.search({ metadata: { tag } })).toEqual([]);
    expect(await statusOf(client.threads.delete(t.thread_id))).toBe(404);
  });

  it('another API key cannot see, change or delete the thread', async () => {
    const t = await client.threads.create({ metadata: { secret: true } });
    expect(await statusOf(other.threads.get(t.thread_id))).toBe(404);
    expect(await statusOf(other.threads.update(t.thread_id, { metadata: { x: 1 } }))).toBe(404);
    expect(await statusOf(other.threads.delete(t.thread_id))).toBe(404);
    expect(await other.threads.search({ ids: [t.thread_id] })).toEqual([]);
    expect(await statusOf(other.runs.wait(t.thread_id, 'agent', { input: userInput('hi') }))).toBe(404);
    expect((await client.threads.get(t.thread_id)).metadata).toEqual({ secret: true });
  });

  it('state and history show the conversation after two runs', async () => {
    const t = await client.threads.create();
    await client.runs.wait(t.thread_id, 'agent', { input: userInput('first question') });
    await client.runs.wait(t.thread_id, 'agent', { input: userInput('second question') });

    const state = await client.threads.getState<{ messages: { type: string; content: string }[] }>(t.thread_id);
    const msgs = state.values.messages;
    expect(msgs.map((m) => m.type)).toEqual(['human', 'ai', 'human', 'ai']);
    expect(msgs[0]!.content).toBe('first question');
    expect(msgs[1]!.content).toMatch(/^Echo: .*first question/);
    expect(msgs[3]!.content).toMatch(/^Echo: .*second question/);
    expect(state.next).toEqual([]);
    expect(state.checkpoint?.thread_id).toBe(t.thread_id);

    // History: one state per turn, newest first; the older state has only the first exchange.
    const history = await client.threads.getHistory<{ messages: unknown[] }>(t.thread_id);
    expect(history).toHaveLength(2);
    expect(history[0]!.values.messages).toHaveLength(4);
    expect(history[1]!.values.messages).toHaveLength(2);
    expect(lastAi(history[1]!.values)).toMatch(/first question/);
    expect(await client.threads.getHistory(t.thread_id, { limit: 1 })).toHaveLength(1);
    // A checkpoint of the history can be fetched as a state.
    const older = await client.threads.getState<{ messages: unknown[] }>(
      t.thread_id,
      history[1]!.checkpoint.checkpoint_id!,
    );
    expect(older.values.messages).toHaveLength(2);

    // GET /threads/{id} carries the same messages; search with select values too.
    expect((await client.threads.get<{ messages: unknown[] }>(t.thread_id)).values.messages).toHaveLength(4);
  });
});
