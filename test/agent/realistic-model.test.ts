/**
 * The paced OpenAI-compatible fake (test/fakes/openai) through the real OpenAI provider path of the Agents SDK:
 * both APIs, streamed and not, and one whole turn of the gateway with OPENAI_BASE_URL pointing at it.
 */
import { Agent, OpenAIProvider, Runner } from '@openai/agents';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpenAIProvider } from '../../src/agent/provider.js';
import { createHttpFetch } from '../../src/core/http-fetch.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai/server.js';
import { startTestApp } from '../helpers/app.js';
import { openSse } from '../live/sse-client.js';

let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI({ ttftMs: 150, tokensPerSec: 200, answerTokens: 20 });
});
afterAll(async () => fake?.close());

// Each through Node's fetch (the SDK's default) and through the gateway's HTTP client, which the app uses.
const httpFetch = createHttpFetch();
/** The app on the real OpenAI provider path, pointed at the paced fake (Chat Completions). */
const startModelApp = (env: Record<string, string> = {}) =>
  startTestApp({
    env: {
      OFFLINE_MODEL: 'false',
      OPENAI_API_KEY: 'test-key',
      OPENAI_BASE_URL: fake.url,
      OPENAI_API: 'chat_completions',
      ...env,
    },
  });
const modes = (['node fetch', 'gateway client'] as const).flatMap((client) =>
  (['chat_completions', 'responses'] as const).flatMap((api) =>
    [false, true].map((stream) => ({ client, api, stream })),
  ),
);

describe('realistic model fake through the OpenAI provider', () => {
  it.each(modes)('$client, $api, stream $stream: answers at the configured pace', async ({ client, api, stream }) => {
    const provider =
      client === 'node fetch'
        ? new OpenAIProvider({ apiKey: 'test-key', baseURL: fake.url, useResponses: api === 'responses' })
        : createOpenAIProvider({ apiKey: 'test-key', baseURL: fake.url, api, fetch: httpFetch });
    const runner = new Runner({ modelProvider: provider, tracingDisabled: true });
    const agent = new Agent({ name: 'bench', instructions: 'answer', model: 'gpt-test' });
    const t0 = performance.now();
    let firstDeltaMs: number | null = null;
    let text: string;
    if (stream) {
      const result = await runner.run(agent, 'hello pace', { stream: true });
      for await (const ev of result) {
        if (ev.type === 'raw_model_stream_event' && ev.data.type === 'output_text_delta')
          firstDeltaMs ??= performance.now() - t0;
      }
      await result.completed;
      text = String(result.finalOutput);
    } else {
      const result = await runner.run(agent, 'hello pace');
      text = String(result.finalOutput);
    }
    const elapsed = performance.now() - t0;
    expect(text.startsWith('Echo: hello pace w3 w4')).toBe(true);
    expect(text.split(' ')).toHaveLength(20);
    expect(elapsed).toBeGreaterThanOrEqual(fake.modelMs - 5); // 150 ms + 20 tokens at 200/s = 250 ms
    if (stream) {
      expect(firstDeltaMs).toBeGreaterThanOrEqual(140);
      expect(firstDeltaMs!).toBeLessThan(elapsed - 50); // tokens arrive over time, not all at the end
    }
    expect(fake.served.at(-1)).toMatchObject({ api, stream, lastUserText: 'hello pace' });
  });

  it('answers a turn of the gateway (local channel) through OPENAI_BASE_URL, streamed only while someone watches', async () => {
    const app = await startModelApp();
    const send = async (text: string) => {
      const t0 = performance.now();
      const res = await app.post('/local/messages', { conversation: 'paced', user: 'u1', text, wait: true });
      expect(res.status).toBe(200);
      expect(res.body.replies).toHaveLength(1);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(fake.modelMs - 5);
      return res.body.replies[0].text as string;
    };
    try {
      // Nobody watches: one whole response, not a stream (half a turn's CPU with a real provider).
      expect(await send('hello model')).toMatch(/^Echo: \[u1\] hello model w4 w5/);
      expect(fake.served.at(-1)).toMatchObject({
        api: 'chat_completions',
        stream: false,
        lastUserText: '[u1] hello model',
      });
      // A watcher on the conversation's live stream: the turn streams, and its tokens reach the watcher.
      const sse = await openSse(`${app.url}/local/conversations/paced/stream`);
      try {
        await sse.next((e) => e.event === 'ready');
        const answered = send('hello again');
        const delta = await sse.next((e) => e.event === 'delta');
        expect(await answered).toMatch(/^Echo: \[u1\] hello again w4 w5/);
        expect(await answered).toContain((delta.data as { text: string }).text);
        expect(fake.served.at(-1)).toMatchObject({ stream: true, lastUserText: '[u1] hello again' });
      } finally {
        sse.close();
      }
    } finally {
      await app.close();
    }
  });

  it('HTTP_CONNECTIONS_PER_HOST caps the calls a self-hosted model server sees at once; the rest wait and are answered', async () => {
    const app = await startModelApp({ HTTP_CONNECTIONS_PER_HOST: '2' });
    try {
      const from = fake.served.length;
      const replies = await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          app.post('/local/messages', { conversation: `capped-${i}`, user: `u${i}`, text: `hi ${i}`, wait: true }),
        ),
      );
      for (const [i, res] of replies.entries())
        expect(res.body.replies[0].text).toMatch(new RegExp(`^Echo: \\[u${i}\\] hi ${i}`));
      const calls = fake.served.slice(from);
      expect(calls).toHaveLength(5);
      // At no moment were more than two of them being answered.
      const most = Math.max(
        ...calls.map((c) => calls.filter((o) => o.startedAt <= c.startedAt && o.endedAt > c.startedAt).length),
      );
      expect(most).toBe(2);
    } finally {
      await app.close();
    }
  });
});
