/** Runs through the real LangGraph SDK client: wait (thread and stateless), SSE streams with token deltas, get/list/join/cancel. */
import type { Client } from '@langchain/langgraph-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import { lastAi, rawApi, startApiApp, statusOf, userInput, type ApiTestApp } from './helpers.js';

let app: ApiTestApp;
let client: Client;
let key: string;

// Small deltas so even a short answer streams as several `messages` events.
beforeAll(async () => {
  app = await startApiApp({ API_STREAM_CHUNK_CHARS: '8' });
  ({ client, key } = await app.newClient('runs'));
});
afterAll(async () => app?.close());

type Msg = { type: string; content: string; id?: string };

describe('run wait', () => {
  it('on a thread: answers with the thread values including the agent reply', async () => {
    const t = await client.threads.create();
    const out = (await client.runs.wait(t.thread_id, 'agent', { input: userInput('hello there') })) as {
      messages: Msg[];
    };
    expect(out.messages.map((m) => m.type)).toEqual(['human', 'ai']);
    expect(out.messages[0]!.content).toBe('hello there');
    expect(lastAi(out)).toMatch(/^Echo: .*hello there$/);
    // The thread remembers: a second run sees the first exchange in its values.
    const again = (await client.runs.wait(t.thread_id, 'agent', { input: userInput('and again') })) as {
      messages: Msg[];
    };
    expect(again.messages).toHaveLength(4);
    expect(lastAi(again)).toMatch(/and again$/);
  });

  it('a message with a NUL or an unpaired surrogate is answered (made storable), and the thread goes on', async () => {
    const t = await client.threads.create();
    const out = (await client.runs.wait(t.thread_id, 'agent', {
      input: userInput('odd\u0000 char \uD800 here'),
    })) as { messages: Msg[] };
    expect(out.messages[0]!.content).toBe('odd char \uFFFD here');
    expect(lastAi(out)).toMatch(/odd char \uFFFD here$/);
    const next = await client.runs.wait(t.thread_id, 'agent', { input: userInput('still here') });
    expect(lastAi(next)).toMatch(/still here$/);
  });

  it('stateless /runs/wait answers on a temporary thread', async () => {
    const out = (await client.runs.wait(null, 'agent', { input: userInput('no thread needed') })) as {
      messages: Msg[];
    };
    expect(out.messages.map((m) => m.type)).toEqual(['human', 'ai']);
    expect(lastAi(out)).toMatch(/no thread needed$/);
  });

  it('refuses an unknown assistant (404) and a missing thread (404) unless if_not_exists create', async () => {
    const t = await client.threads.create();
    expect(await statusOf(client.runs.wait(t.thread_id, 'no-such-graph', { input: userInput('x') }))).toBe(404);
    const id = crypto.randomUUID();
    expect(await statusOf(client.runs.wait(id, 'agent', { input: userInput('x') }))).toBe(404);
    const out = await client.runs.wait(id, 'agent', { input: userInput('made it'), ifNotExists: 'create' });
    expect(lastAi(out)).toMatch(/made it$/);
    expect((await client.threads.get(id)).thread_id).toBe(id);
  });
});

describe('run stream', () => {
  it('messages-tuple + values: metadata first, several token deltas that add up to the answer, final values', async () => {
    const t = await client.threads.create();
    const text = 'a somewhat longer message to be streamed back in pieces';
    const events: { event: string; data: any }[] = [];
    for await (const ev of client.runs.stream(t.thread_id, 'agent', {
      input: userInput(text),
      streamMode: ['messages-tuple', 'values'],
    })) {
      events.push(ev as { event: string; data: any });
    }
    expect(events[0]!.event).toBe('metadata');
    const runId = events[0]!.data.run_id as string;
    expect(runId).toMatch(/^[0-9a-f-]{36}$/);
    expect(events[0]!.data.thread_id).toBe(t.thread_id);

    // values before the answer already show the new input.
    const firstValues = events.find((e) => e.event === 'values')!;
    expect((firstValues.data.messages as Msg[]).at(-1)).toMatchObject({ type: 'human', content: text });

    const deltas = events.filter((e) => e.event === 'messages');
    expect(deltas.length).toBeGreaterThan(3);
    for (const d of deltas) {
      expect(d.data[0].type).toBe('AIMessageChunk');
      expect(d.data[1]).toMatchObject({ run_id: runId, thread_id: t.thread_id, langgraph_node: 'agent' });
    }
    expect(new Set(deltas.map((d) => d.data[0].id)).size).toBe(1); // one message, many chunks
    const streamed = deltas.map((d) => d.data[0].content as string).join('');

    const last = events.at(-1)!;
    expect(last.event).toBe('values');
    expect(streamed).toBe(lastAi(last.data));
    expect(streamed).toMatch(new RegExp(`^Echo: .*${text}$`));
    expect(events.some((e) => e.event === 'error')).toBe(false);

    // The run is recorded as a success, and the thread state holds the streamed answer.
    expect((await client.runs.get(t.thread_id, runId)).status).toBe('success');
    expect(lastAi((await client.threads.getState(t.thread_id)).values)).toBe(streamed);
  });

  it('values only: metadata, the state with the input, then the final state', async () => {
    const t = await client.threads.create();
    const names: string[] = [];
    let final: unknown;
    for await (const ev of client.runs.stream(t.thread_id, 'agent', {
      input: userInput('values please'),
      streamMode: 'values',
    })) {
      names.push(ev.event);
      if (ev.event === 'values') final = ev.data;
    }
    expect(names).toEqual(['metadata', 'values', 'values']);
    expect(lastAi(final)).toMatch(/values please$/);
  });

  it('stateless stream: answers, then the temporary thread is deleted', async () => {
    let threadId = '';
    let final: unknown;
    for await (const ev of client.runs.stream(null, 'agent', { input: userInput('ephemeral'), streamMode: 'values' })) {
      if (ev.event === 'metadata') threadId = (ev.data as { thread_id: string }).thread_id;
      if (ev.event === 'values') final = ev.data;
    }
    expect(lastAi(final)).toMatch(/ephemeral$/);
    // Deleted right after the run is final (the stream may end a moment before).
    const gone = () =>
      client.threads.get(threadId).then(
        () => false,
        (err: { status?: number }) => err.status === 404,
      );
    await waitFor(gone, 'the stateless thread to be deleted', 5_000);
  });
});

describe('runs get, list, join, cancel', () => {
  it('a background run can be fetched, listed, joined and joined as a stream', async () => {
    const t = await client.threads.create();
    const run = await client.runs.create(t.thread_id, 'agent', { input: userInput('[[slow:800]] background job') });
    expect(['pending', 'running']).toContain(run.status);
    expect((await client.runs.get(t.thread_id, run.run_id)).status).toBe('running');

    const names: string[] = [];
    for await (const ev of client.runs.joinStream(t.thread_id, run.run_id, { streamMode: ['values'] }))
      names.push(ev.event);
    expect(names[0]).toBe('metadata');
    expect(names.at(-1)).toBe('values');

    const joined = await client.runs.join(t.thread_id, run.run_id);
    expect(lastAi(joined)).toMatch(/background job$/);
    expect((await client.runs.get(t.thread_id, run.run_id)).status).toBe('success');

    const second = await client.runs.create(t.thread_id, 'agent', { input: userInput('second') });
    await client.runs.join(t.thread_id, second.run_id);
    const list = await client.runs.list(t.thread_id);
    expect(list.map((r) => r.run_id)).toEqual([second.run_id, run.run_id]); // newest first
    expect((await client.runs.list(t.thread_id, { status: 'success', limit: 1 })).map((r) => r.run_id)).toEqual([
      second.run_id,
    ]);
  });

  it('cancel: a pending run is interrupted and never answered; a finished run cannot be cancelled (409)', async () => {
    const t = await client.threads.create();
    const busy = await client.runs.create(t.thread_id, 'agent', { input: userInput('[[slow:1000]] keep working') });
    const queued = await client.runs.create(t.thread_id, 'agent', {
      input: userInput('never mind this'),
      multitaskStrategy: 'enqueue',
    });
    expect(queued.status).toBe('pending');
    await client.runs.cancel(t.thread_id, queued.run_id);
    expect((await client.runs.get(t.thread_id, queued.run_id)).status).toBe('interrupted');

    await client.runs.join(t.thread_id, busy.run_id);
    expect((await client.runs.get(t.thread_id, busy.run_id)).status).toBe('success');
    const msgs = (await client.threads.getState<{ messages: Msg[] }>(t.thread_id)).values.messages;
    expect(msgs.map((m) => m.content).join('\n')).not.toContain('never mind this');
    expect(await statusOf(client.runs.cancel(t.thread_id, busy.run_id))).toBe(409);
    expect((await client.threads.get(t.thread_id)).status).toBe('idle');
  });

  it('cancel with rollback deletes the pending run', async () => {
    const t = await client.threads.create();
    const busy = await client.runs.create(t.thread_id, 'agent', { input: userInput('[[slow:600]] working') });
    const queued = await client.runs.create(t.thread_id, 'agent', {
      input: userInput('drop me'),
      multitaskStrategy: 'enqueue',
    });
    await client.runs.cancel(t.thread_id, queued.run_id, false, 'rollback');
    expect(await statusOf(client.runs.get(t.thread_id, queued.run_id))).toBe(404);
    await client.runs.join(t.thread_id, busy.run_id);
    expect((await client.runs.list(t.thread_id)).map((r) => r.run_id)).toEqual([busy.run_id]);
  });
});

describe('Agent Protocol aliases', () => {
  it('/agents/search, /runs/{id}/wait and GET history answer like their LangGraph twins', async () => {
    const agents = await rawApi(app, 'POST', '/agents/search', { key, body: {} });
    expect(agents.status).toBe(200);
    expect(agents.body[0]).toMatchObject({ agent_id: (await client.assistants.get('agent')).assistant_id });
    const t = await client.threads.create();
    const r = await client.runs.create(t.thread_id, 'agent', {
      input: { messages: [{ role: 'user', content: 'alias' }] },
    });
    const waited = await rawApi(app, 'GET', `/runs/${r.run_id}/wait`, { key });
    expect(waited.status).toBe(200);
    expect(JSON.stringify(waited.body.messages)).toContain('alias');
    const hist = await rawApi(app, 'GET', `/threads/${t.thread_id}/history?limit=5`, { key });
    expect(hist.status).toBe(200);
    expect(hist.body).toHaveLength(1);
  });
});
