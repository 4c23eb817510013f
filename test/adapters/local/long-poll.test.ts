/**
 * Long-polls on the local channel (`GET /local/conversations/:c/messages?waitMs=…`, what `npm run chat` and curl
 * keep open) must not stall anyone else: with 100 of them open, ingress still answers promptly, and each long-poll
 * still gets its conversation's reply. Past LOCAL_POLL_MAX a long-poll is answered at once, never queued.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../helpers/app.js';
import { sleep } from '../../helpers/wait.js';

interface Replies {
  replies: { id: string; text: string }[];
}

describe('local channel long-polls', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { LOCAL_POLL_MAX: '150' } });
  }, 60_000);
  afterAll(async () => app?.close());

  const poll = (conversation: string, query: string) =>
    fetch(`${app.url}/local/conversations/${conversation}/messages?${query}`).then(async (r) => ({
      status: r.status,
      body: (await r.json()) as Replies,
    }));

  it('keeps ingress fast with 100 long-polls open, and the replies reach the long-polls', async () => {
    const polls = Array.from({ length: 100 }, (_, i) => poll(`lp-${i}`, 'after=0&waitMs=45000'));
    await sleep(1_000); // all 100 are parked in the gateway now

    const latencies: number[] = [];
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(
        Array.from({ length: 10 }, async (_, j) => {
          const i = batch * 10 + j;
          const started = performance.now();
          const res = await app.post('/local/messages', { conversation: `lp-${i}`, user: `u${i}`, text: `hello ${i}` });
          latencies.push(performance.now() - started);
          expect(res.status, JSON.stringify(res.body)).toBe(202);
        }),
      );
    }
    latencies.sort((a, b) => a - b);
    const p99 = latencies[Math.ceil(latencies.length * 0.99) - 1]!;
    expect(p99).toBeLessThan(1_000);

    const results = await Promise.all(polls);
    results.forEach((r, i) => {
      expect(r.status).toBe(200);
      expect(r.body.replies.map((x) => x.text)).toEqual([`Echo: [u${i}] hello ${i}`]);
    });
  }, 90_000);

  it('with after=$ waits for the next reply only, and returns empty after waitMs when none comes', async () => {
    const first = await app.post('/local/messages', { conversation: 'lp-dollar', user: 'u', text: 'one', wait: true });
    expect(first.status).toBe(200);
    const next = poll('lp-dollar', 'after=$&waitMs=30000');
    await sleep(300);
    expect((await app.post('/local/messages', { conversation: 'lp-dollar', user: 'u', text: 'two' })).status).toBe(202);
    expect((await next).body.replies.map((x) => x.text)).toEqual(['Echo: [u] two']);

    const started = Date.now();
    const empty = await poll('lp-dollar', 'after=$&waitMs=400');
    expect(empty).toEqual({ status: 200, body: { replies: [] } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
  }, 60_000);
});

describe('local channel long-polls past LOCAL_POLL_MAX', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { LOCAL_POLL_MAX: '2' } });
  }, 60_000);
  afterAll(async () => app?.close());

  it('answers at once with 429 and Retry-After, and with what is there if anything is', async () => {
    const open = [0, 1].map(() => fetch(`${app.url}/local/conversations/cap/messages?after=$&waitMs=20000`));
    await sleep(500);
    const started = Date.now();
    const refused = await fetch(`${app.url}/local/conversations/cap/messages?after=0&waitMs=20000`);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);

    // A reply exists now: the parked ones get it, and a read past the cap returns it at once instead of 429.
    expect((await app.post('/local/messages', { conversation: 'cap', user: 'u', text: 'x', wait: true })).status).toBe(
      200,
    );
    for (const res of await Promise.all(open))
      expect(((await res.json()) as Replies).replies.map((r) => r.text)).toEqual(['Echo: [u] x']);
    const more = [0, 1].map(() => fetch(`${app.url}/local/conversations/cap/messages?after=$&waitMs=20000`));
    await sleep(500);
    const past = await fetch(`${app.url}/local/conversations/cap/messages?after=0&waitMs=20000`);
    expect(past.status).toBe(200);
    expect(((await past.json()) as Replies).replies.map((r) => r.text)).toEqual(['Echo: [u] x']);
    expect((await app.post('/local/messages', { conversation: 'cap', user: 'u', text: 'y' })).status).toBe(202);
    await Promise.all(more);
  }, 60_000);
});
