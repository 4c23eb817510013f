/** A second run on a busy thread, per multitask_strategy (reject is the default), plus SSE heartbeats while a run works. */
import type { Client } from '@langchain/langgraph-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastAi, startApiApp, statusOf, userInput, type ApiTestApp } from './helpers.js';

let app: ApiTestApp;
let client: Client;
let key: string;

beforeAll(async () => {
  app = await startApiApp({ API_HEARTBEAT_MS: '100' });
  ({ client, key } = await app.newClient('multitask'));
});
afterAll(async () => app?.close());

type Msg = { type: string; content: string };
const contents = async (threadId: string) =>
  (await client.threads.getState<{ messages: Msg[] }>(threadId)).values.messages.map((m) => `${m.type}:${m.content}`);

/** A thread with a run that keeps the worker busy for `ms`. */
async function busyThread(ms = 1_000) {
  const t = await client.threads.create();
  const first = await client.runs.create(t.thread_id, 'agent', { input: userInput(`[[slow:${ms}]] first`) });
  expect((await client.threads.get(t.thread_id)).status).toBe('busy');
  return { threadId: t.thread_id, first };
}

describe('multitask_strategy', () => {
  it('reject (the default): a second run on a busy thread is a 409 and the first run is unaffected', async () => {
    // Long enough that all three attempts land while it runs, even on a loaded machine; sent together.
    const { threadId, first } = await busyThread(1_500);
    const streamed = (async () => {
      for await (const _ of client.runs.stream(threadId, 'agent', {
        input: userInput('second'),
        multitaskStrategy: 'reject',
      })) {
        /* drain */
      }
    })();
    const attempts = await Promise.all([
      statusOf(client.runs.create(threadId, 'agent', { input: userInput('second') })),
      statusOf(client.runs.wait(threadId, 'agent', { input: userInput('second'), multitaskStrategy: 'reject' })),
      statusOf(streamed),
    ]);
    expect(attempts).toEqual([409, 409, 409]);
    const out = await client.runs.join(threadId, first.run_id);
    expect(lastAi(out)).toMatch(/first$/);
    expect((await client.runs.list(threadId)).map((r) => r.run_id)).toEqual([first.run_id]);
    expect((await contents(threadId)).join('\n')).not.toContain('second');
  });

  it('enqueue: the second run waits its turn, then both are answered in order', async () => {
    const { threadId, first } = await busyThread(700);
    const second = await client.runs.create(threadId, 'agent', {
      input: userInput('second'),
      multitaskStrategy: 'enqueue',
    });
    expect(second.status).toBe('pending');
    const out = await client.runs.join(threadId, second.run_id);
    expect(lastAi(out)).toMatch(/second$/);
    expect((await client.runs.get(threadId, first.run_id)).status).toBe('success');
    expect((await client.runs.get(threadId, second.run_id)).status).toBe('success');
    const msgs = await contents(threadId);
    expect(msgs).toHaveLength(4);
    expect(msgs[0]).toBe('human:[[slow:700]] first');
    expect(msgs[1]).toMatch(/^ai:Echo: .*first$/);
    expect(msgs[2]).toBe('human:second');
    expect(msgs[3]).toMatch(/^ai:Echo: .*second$/);
  });

  it('interrupt: the active run is marked interrupted at once and the new run is answered', async () => {
    const { threadId, first } = await busyThread(700);
    const joinFirst = client.runs.join(threadId, first.run_id); // a waiter on the old run is woken, not left hanging
    const out = await client.runs.wait(threadId, 'agent', {
      input: userInput('replacement'),
      multitaskStrategy: 'interrupt',
    });
    expect(lastAi(out)).toMatch(/replacement$/);
    await joinFirst;
    expect((await client.runs.get(threadId, first.run_id)).status).toBe('interrupted');
    const runs = await client.runs.list(threadId);
    expect(runs).toHaveLength(2);
    expect(runs[0]).toMatchObject({ status: 'success', multitask_strategy: 'interrupt' });
    expect((await client.threads.get(threadId)).status).toBe('idle');
  });

  it('rollback: the active run is deleted and the new run is answered', async () => {
    const { threadId, first } = await busyThread(700);
    const out = await client.runs.wait(threadId, 'agent', {
      input: userInput('do this instead'),
      multitaskStrategy: 'rollback',
    });
    expect(lastAi(out)).toMatch(/do this instead$/);
    expect(await statusOf(client.runs.get(threadId, first.run_id))).toBe(404);
    const runs = await client.runs.list(threadId);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ status: 'success', multitask_strategy: 'rollback' });
  });

  it('many runs created at once on one key (new threads, one busy thread, interrupts) each get their own run', async () => {
    // A key of its own: the per-user rate bucket (20 a minute) is per key, and this test uses 18 of it.
    const { client: c } = await app.newClient('many at once');
    const threads = await Promise.all(Array.from({ length: 10 }, () => c.threads.create()));
    const busy = await c.threads.create();
    await c.runs.create(busy.thread_id, 'agent', { input: userInput('[[slow:300]] first') });
    const created = await Promise.all([
      ...threads.map((t, i) => c.runs.create(t.thread_id, 'agent', { input: userInput(`fresh ${i}`) })),
      ...[0, 1, 2, 3].map((i) =>
        c.runs.create(busy.thread_id, 'agent', { input: userInput(`queued ${i}`), multitaskStrategy: 'enqueue' }),
      ),
    ]);
    expect(new Set(created.map((r) => r.run_id)).size).toBe(created.length);
    const answers = await Promise.all(created.map((r) => c.runs.join(r.thread_id, r.run_id)));
    for (const [i, out] of answers.slice(0, 10).entries()) expect(lastAi(out)).toMatch(new RegExp(`fresh ${i}$`));
    const state = await c.threads.getState<{ messages: Msg[] }>(busy.thread_id);
    const queued = state.values.messages.filter((m) => m.content.startsWith('queued')).map((m) => m.content);
    expect(queued.sort()).toEqual([0, 1, 2, 3].map((i) => `queued ${i}`));
    // Racing interrupts on one thread: every call gets a run of its own, each ends answered or interrupted.
    const racing = await Promise.all(
      [0, 1, 2].map((i) =>
        c.runs.create(busy.thread_id, 'agent', { input: userInput(`racer ${i}`), multitaskStrategy: 'interrupt' }),
      ),
    );
    expect(new Set(racing.map((r) => r.run_id)).size).toBe(3);
    for (const r of racing) await c.runs.join(busy.thread_id, r.run_id);
    const final = await Promise.all(racing.map((r) => c.runs.get(busy.thread_id, r.run_id)));
    expect(final.filter((r) => r.status === 'success').length).toBeGreaterThanOrEqual(1);
    expect(final.every((r) => r.status === 'success' || r.status === 'interrupted')).toBe(true);
    expect((await c.threads.get(busy.thread_id)).status).toBe('idle');
  });

  it("runs over the user's rate limit end as errors that name the limit, not as silent successes", async () => {
    // 24 stateless runs at once from one user against a burst of 20 (refilling 20 a minute): some must be refused.
    const { client: c } = await app.newClient('rate limited');
    type Out = { messages: Msg[]; __error__?: { error: string; message: string } };
    const outs = (await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        c.runs.wait(null, 'agent', { input: userInput(`m${i}`), raiseError: false }),
      ),
    )) as Out[];
    const refused = outs.filter((o) => o.__error__);
    expect(refused.length).toBeGreaterThan(0);
    expect(outs.length - refused.length).toBeGreaterThanOrEqual(20);
    for (const o of refused)
      expect(o.__error__).toMatchObject({ error: 'RunRefused', message: expect.stringMatching(/^rate limited/) });
    for (const o of outs.filter((x) => !x.__error__)) expect(lastAi(o)).toMatch(/^Echo: .*m\d+$/);
  });
});

describe('SSE heartbeats', () => {
  it('sends heartbeat comment lines while the run works, before the answer', async () => {
    const t = await client.threads.create();
    const res = await fetch(`${app.apiUrl}/threads/${t.thread_id}/runs/stream`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'content-type': 'application/json' },
      body: JSON.stringify({ assistant_id: 'agent', input: userInput('[[slow:600]] beat'), stream_mode: ['values'] }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const text = await res.text();
    expect(text.startsWith('event: metadata\n')).toBe(true);
    const beforeAnswer = text.slice(0, text.lastIndexOf('event: values'));
    expect(beforeAnswer.match(/^: heartbeat$/gm)?.length ?? 0).toBeGreaterThanOrEqual(2);
  });

  it('heartbeats are invisible to SDK clients (no empty events)', async () => {
    const t = await client.threads.create();
    const names: string[] = [];
    for await (const ev of client.runs.stream(t.thread_id, 'agent', {
      input: userInput('[[slow:600]] quiet'),
      streamMode: ['values'],
    }))
      names.push(ev.event);
    expect(names).toEqual(['metadata', 'values', 'values']);
  });
});
