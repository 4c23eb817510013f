/**
 * Live replies on the local channel, through the real pipeline: the worker streams the offline model's deltas,
 * the gateway shows them over SSE, the outbox posts the one committed reply; /stop aborts a slow turn.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { monitorRedis } from '../helpers/monitor.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { REDIS_URL } from '../helpers/services.js';
import { until } from '../helpers/wait.js';
import { openSse } from './sse-client.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ env: { RATE_LIMIT_PER_MINUTE: '0' } });
});
afterAll(async () => app?.close());

const msg = (conversation: string, text: string, extra: Record<string, unknown> = {}) => ({
  conversation,
  user: 'u1',
  text,
  ...extra,
});

async function replies(conversation: string): Promise<string[]> {
  const res = await fetch(`${app.url}/local/conversations/${conversation}/messages`);
  return ((await res.json()) as { replies: { text: string }[] }).replies.map((r) => r.text);
}

const words = (n: number) => Array.from({ length: n }, (_, i) => `word${i}`).join(' ');

describe('live replies on the local channel', () => {
  it('a streamed reply shows several updates and ends as one message with the full text', async () => {
    const sse = await openSse(`${app.url}/local/conversations/live-1/stream?once=1`);
    await sse.next((e) => e.event === 'ready');
    const res = await app.post('/local/messages', msg('live-1', `[[drip:20]] ${words(12)}`, { wait: true }));
    expect(res.status).toBe(200);
    await sse.done;
    const deltas = sse.events.filter((e) => e.event === 'delta');
    expect(deltas.length).toBeGreaterThanOrEqual(2);
    // The updates arrive over time, not all at once at the end.
    expect(deltas.at(-1)!.at - deltas[0]!.at).toBeGreaterThan(50);
    const final = res.body.replies.map((r: { text: string }) => r.text).join('');
    expect(deltas.map((d) => d.data.text).join('')).toBe(final);
    expect(final).toBe(`Echo: [u1] [[drip:20]] ${words(12)}`);
    expect(sse.events.at(-1)).toMatchObject({ event: 'end', data: { stopped: false } });
    expect(await replies('live-1')).toEqual([final]);
  });

  it('a turn nobody watches is not streamed: no live text is published, the answer is whole', async () => {
    const publishes: string[] = [];
    let final = '';
    const monitor = await monitorRedis(REDIS_URL, (args, source) => {
      if (source !== 'lua' && args[0]?.toLowerCase() === 'publish' && args[1]?.includes('live-quiet'))
        publishes.push(args[2]!);
    });
    try {
      // 90 words in about 32 deltas 20 ms apart, were it streamed.
      const started = Date.now();
      const res = await app.post('/local/messages', msg('live-quiet', `[[drip:20]] ${words(90)}`, { wait: true }));
      final = res.body.replies.map((r: { text: string }) => r.text).join('');
      expect(Date.now() - started).toBeGreaterThanOrEqual(600); // the model took its time, as a whole answer
      await sleep(300); // anything published late would be seen by now
    } finally {
      monitor.close();
    }
    expect(publishes).toEqual([]);
    expect(final).toMatch(/^Echo: \[u1\] \[\[drip:20\]\] word0 .*word89$/);
  });

  it('/stop ends a slow turn within a second, keeps the partial answer, and queued messages still run', async () => {
    const sse = await openSse(`${app.url}/local/conversations/live-2/stream`);
    await sse.next((e) => e.event === 'ready');
    // About 60 deltas 300 ms apart: some 18 s unless stopped.
    await app.post('/local/messages', msg('live-2', `[[drip:300]] ${words(180)}`));
    await sse.next((e) => e.event === 'delta' && /word/.test(e.data.text));
    await app.post('/local/messages', msg('live-2', 'and after that?'));
    const asked = Date.now();
    const stop = await app.post('/local/messages', msg('live-2', '/stop'));
    expect(stop.body.replies[0].text).toMatch(/Stopping/);
    const first = await until(
      () => replies('live-2'),
      (r) => r.length > 0,
      5_000,
      20,
    );
    const took = Date.now() - asked;
    expect(took).toBeLessThan(1_000);
    expect(first[0]).toMatch(/^Echo: \[u1\] \[\[drip:300\]\] word0 .*\n\n_\(stopped\)_$/s);
    expect(first[0]!.length).toBeLessThan(400);
    expect((await sse.next((e) => e.event === 'end')).data.stopped).toBe(true);
    // The message that waited runs as the next turn, normally.
    const all = await until(
      () => replies('live-2'),
      (r) => r.length >= 2,
      10_000,
    );
    expect(all[1]).toBe('Echo: [u1] and after that?');
    sse.close();
  });

  it('/stop with nothing running says so', async () => {
    const stop = await app.post('/local/messages', msg('live-3', '/stop'));
    expect(stop.body.replies[0].text).toMatch(/Nothing is being answered/);
  });
});
