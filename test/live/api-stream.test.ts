/**
 * The agent API's `messages-tuple` stream carries the model's real tokens while the turn runs (through the real
 * LangGraph SDK client), runs/cancel stops a running model call like /stop, and the time to the first visible
 * token with a model that starts streaming after 300 ms is measured (printed as one JSON line).
 */
import type { Client } from '@langchain/langgraph-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import { lastAi, sleep, startApiApp, userInput, type ApiTestApp } from '../api/helpers.js';

let app: ApiTestApp;
let client: Client;
beforeAll(async () => {
  app = await startApiApp({
    API_STREAM_CHUNK_CHARS: '8',
    RATE_LIMIT_PER_MINUTE: '0',
    API_RATE_LIMIT_PER_MINUTE: '10000',
    API_RATE_BURST: '1000',
  });
  ({ client } = await app.newClient('live'));
});
afterAll(async () => app?.close());

const stoppedAnswer = (threadId: string) =>
  waitFor(
    async () => {
      const msgs =
        ((await client.threads.getState(threadId)).values as { messages?: { type: string; content: string }[] })
          .messages ?? [];
      return msgs.find((m) => m.type === 'ai')?.content;
    },
    'the stopped answer',
    5_000,
  );

const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i}`).join(' ');

/** A run nobody streams, writing for some 15 s, once a worker runs it. */
async function backgroundRun() {
  const t = await client.threads.create();
  const run = await client.runs.create(t.thread_id, 'agent', { input: userInput(`[[drip:300]] ${words(150)}`) });
  await waitFor(async () => (await client.runs.get(t.thread_id, run.run_id)).status === 'running', 'the run to start');
  return { t, run };
}

describe('live tokens on the agent API', () => {
  it('messages-tuple: tokens arrive while the model writes, and add up to the one final message', async () => {
    const t = await client.threads.create();
    const events: { event: string; data: any; at: number }[] = [];
    const input = `[[drip:120]] ${words(15)}`;
    for await (const ev of client.runs.stream(t.thread_id, 'agent', {
      input: userInput(input),
      streamMode: ['messages-tuple', 'values'],
    })) {
      events.push({ ...(ev as { event: string; data: any }), at: Date.now() });
    }
    const deltas = events.filter((e) => e.event === 'messages');
    expect(deltas.length).toBeGreaterThanOrEqual(2);
    // Several updates spread over the model's writing time (the old stream cut the finished answer at once).
    const early = deltas.filter((d) => d.at < events.at(-1)!.at - 200);
    expect(early.length).toBeGreaterThanOrEqual(2);
    expect(new Set(deltas.map((d) => d.data[0].id)).size).toBe(1);
    const streamed = deltas.map((d) => d.data[0].content as string).join('');
    expect(streamed).toBe(lastAi(events.at(-1)!.data));
    expect(streamed).toBe(`Echo: ${input}`);
    const state = await client.threads.getState(t.thread_id);
    expect((state.values as { messages: { type: string }[] }).messages.filter((m) => m.type === 'ai')).toHaveLength(1);
  });

  it('runs/cancel stops a streaming run within a second; the partial answer it showed stays in the thread', async () => {
    const t = await client.threads.create();
    const events: { event: string; data: any }[] = [];
    const streaming = (async () => {
      for await (const ev of client.runs.stream(t.thread_id, 'agent', {
        input: userInput(`[[drip:300]] ${words(150)}`),
        streamMode: ['messages-tuple', 'values'],
      }))
        events.push(ev as { event: string; data: any });
    })();
    await waitFor(async () => events.filter((e) => e.event === 'messages').length >= 2, 'a few tokens shown');
    const runId = events.find((e) => e.event === 'metadata')!.data.run_id as string;
    const asked = Date.now();
    await client.runs.cancel(t.thread_id, runId);
    const answer = await stoppedAnswer(t.thread_id);
    expect(Date.now() - asked).toBeLessThan(1_000);
    expect(answer).toMatch(/^Echo: \[\[drip:300\]\] w0 .*_\(stopped\)_$/s);
    expect(answer.length).toBeLessThan(300);
    await streaming;
    expect((await client.runs.get(t.thread_id, runId)).status).toBe('interrupted');
    const next = await client.runs.wait(t.thread_id, 'agent', { input: userInput('still there?') });
    expect(lastAi(next)).toBe('Echo: still there?');
  });

  it('runs/cancel stops a background run nobody watches within a second: the thread says it was stopped', async () => {
    const { t, run } = await backgroundRun();
    await sleep(800);
    const asked = Date.now();
    await client.runs.cancel(t.thread_id, run.run_id);
    // Not streamed (nobody saw its text), so nothing of the answer exists to keep.
    expect(await stoppedAnswer(t.thread_id)).toBe('_(stopped)_');
    expect(Date.now() - asked).toBeLessThan(1_000);
    expect((await client.runs.get(t.thread_id, run.run_id)).status).toBe('interrupted');
    const next = await client.runs.wait(t.thread_id, 'agent', { input: userInput('still there?') });
    expect(lastAi(next)).toBe('Echo: still there?');
  });

  it('runs/cancel reaches a run whose running marker is gone (its write failed as the turn began)', async () => {
    const { t, run } = await backgroundRun();
    // The marker /stop reads to say whether anything runs: written with the turn's first Redis call, which can
    // time out under load while the turn goes on.
    const [marker] = await waitFor(async () => {
      const keys = await app.redis.keys(`${app.config.KEY_PREFIX}:liverun:*`);
      return keys.length ? keys : undefined;
    }, 'the turn to start its model run');
    await sleep(300);
    expect(await app.redis.del(marker!)).toBe(1);
    const asked = Date.now();
    await client.runs.cancel(t.thread_id, run.run_id);
    expect(await stoppedAnswer(t.thread_id)).toBe('_(stopped)_');
    expect(Date.now() - asked).toBeLessThan(1_000);
  });

  it('time to first visible token, model streaming after 300 ms (p50/p99 printed)', async () => {
    const runs = 20;
    const ms: number[] = [];
    const t = await client.threads.create();
    for (let i = 0; i < runs; i++) {
      const start = Date.now();
      let first = 0;
      for await (const ev of client.runs.stream(t.thread_id, 'agent', {
        input: userInput(`[[slow:300]] [[drip:20]] ${words(12)}`),
        streamMode: ['messages-tuple'],
      })) {
        if (ev.event === 'messages' && !first) first = Date.now() - start;
      }
      ms.push(first);
    }
    ms.sort((a, b) => a - b);
    const pct = (p: number) => ms[Math.min(ms.length - 1, Math.ceil((p / 100) * ms.length) - 1)]!;
    console.log(JSON.stringify({ ttftMs: { p50: pct(50), p99: pct(99) }, runs, modelFirstTokenMs: 300 }));
    // The whole answer takes 300 ms + 5 × 20 ms plus the turn; the first token must come before it ends.
    expect(pct(50)).toBeGreaterThanOrEqual(300);
    expect(pct(50)).toBeLessThan(1_500);
  }, 60_000);
});
