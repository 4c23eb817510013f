/** The whole pipeline in one process through the local channel: ingress -> inbox -> turn -> outbox -> send. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { until } from '../helpers/wait.js';

let app: TestApp;
beforeAll(async () => {
  // The spine, not the abuse limits (test/access/limits.test.ts): one user sends every message of this file.
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

describe('local channel through the real pipeline', () => {
  it('answers with wait:true once the turn has replied', async () => {
    const res = await app.post('/local/messages', msg('c-wait', 'hello there', { wait: true }));
    expect(res.status).toBe(200);
    expect(res.body.replies).toEqual([{ text: 'Echo: [u1] hello there' }]);
    expect(res.body.id).toMatch(/^local:/);
  });

  it('accepts with 202 and the reply appears in the conversation', async () => {
    const res = await app.post('/local/messages', msg('c-async', 'later please'));
    expect(res.status).toBe(202);
    expect(
      await until(
        () => replies('c-async'),
        (r) => r.length > 0,
      ),
    ).toEqual(['Echo: [u1] later please']);
  });

  it('runs a tool call end to end (offline model calls current_time)', async () => {
    const res = await app.post('/local/messages', msg('c-tool', 'what time is it?', { wait: true }));
    expect(res.body.replies[0].text).toMatch(/The current time is \d{4}-\d\d-\d\dT.* \(from the current_time tool\)/);
  });

  it('sends nothing when the agent has nothing to say', async () => {
    const res = await app.post('/local/messages', msg('c-silent', 'just noting [[silent]]', { wait: true }));
    expect(res.status).toBe(200);
    expect(res.body.outcome).toBe('silent');
    expect(res.body.replies).toEqual([]);
    expect(await replies('c-silent')).toEqual([]);
  });

  it('apologises when the model keeps failing, and the conversation goes on', async () => {
    const res = await app.post('/local/messages', msg('c-fail', 'break [[fail]]', { wait: true }));
    expect(res.body.outcome).toBe('replied');
    expect(res.body.replies[0].text).toMatch(/^Sorry, I couldn't answer/);
    const next = await app.post('/local/messages', msg('c-fail', 'and now?', { wait: true }));
    expect(next.body.replies).toEqual([{ text: 'Echo: [u1] and now?' }]);
  });

  it('refuses oversized text with 413 and enqueues nothing', async () => {
    const res = await app.post('/local/messages', msg('c-big', 'x'.repeat(app.config.MAX_INPUT_CHARS + 1)));
    expect(res.status).toBe(413);
    expect(res.body.error).toMatch(/too long/);
    await new Promise((r) => setTimeout(r, 300));
    expect(await replies('c-big')).toEqual([]);
  });

  it('answers malformed JSON with 400, names a missing field, and ignores unknown fields', async () => {
    expect((await app.post('/local/messages', '{"conversation": ')).status).toBe(400);
    const missing = await app.post('/local/messages', { conversation: 'c-bad', user: 'u1' });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatch(/text/);
    const extra = await app.post('/local/messages', msg('c-extra', 'fine', { wait: true, color: 'blue' }));
    expect(extra.status).toBe(200);
  });

  it('deduplicates a redelivered event id: one reply', async () => {
    const a = await app.post('/local/messages', msg('c-dup', 'once', { id: 'client-42' }));
    const b = await app.post('/local/messages', msg('c-dup', 'once', { id: 'client-42' }));
    expect(a.status).toBe(202);
    expect(b.body.duplicate).toBe(true);
    await until(
      () => replies('c-dup'),
      (r) => r.length > 0,
    );
    await new Promise((r) => setTimeout(r, 500));
    expect(await replies('c-dup')).toEqual(['Echo: [u1] once']);
  });

  it('answers a retried wait:true with the reply the first attempt got, at once, and sends nothing new', async () => {
    const first = await app.post(
      '/local/messages',
      msg('c-retry', 'only once please', { id: 'client-77', wait: true }),
    );
    expect(first.status).toBe(200);
    const started = Date.now();
    const again = await app.post(
      '/local/messages',
      msg('c-retry', 'only once please', { id: 'client-77', wait: true }),
    );
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(again).toMatchObject({
      status: 200,
      body: { id: first.body.id, turnId: first.body.turnId, replies: first.body.replies },
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(await replies('c-retry')).toEqual(['Echo: [u1] only once please']);
  });

  it('collects a burst into turns in arrival order, each message answered exactly once', async () => {
    const texts = Array.from({ length: 12 }, (_, i) => `m${i}`);
    for (const t of texts) expect((await app.post('/local/messages', msg('c-burst', t))).status).toBe(202);
    const got = await until(
      () => replies('c-burst'),
      (r) =>
        r
          .join(' | ')
          .split(' | ')
          .filter((x) => /m\d+/.test(x)).length >= texts.length,
    );
    const answered = got.flatMap((r) =>
      r
        .replace(/^Echo: /, '')
        .split(' | ')
        .map((x) => x.replace('[u1] ', '')),
    );
    expect(answered).toEqual(texts);
  });

  it('answers /help from the command registry without a turn', async () => {
    const res = await app.post('/local/messages', msg('c-cmd', '/help'));
    expect(res.status).toBe(200);
    expect(res.body.replies[0].text).toContain('/help');
  });

  it('reports readiness of Redis, the database and the channels', async () => {
    const res = await fetch(`${app.url}/readyz`);
    const body = (await res.json()) as any;
    expect(res.status).toBe(200);
    expect(body.checks).toEqual({ redis: { ok: true }, database: { ok: true } });
    expect(body.channels.local.state).toBe('up');
  });
});

describe('local channel in production', () => {
  it('requires an API key header when enabled', async () => {
    const key = 'k'.repeat(24);
    const prod = await startTestApp({
      env: {
        NODE_ENV: 'production',
        LOCAL_CHANNEL: 'on',
        LOCAL_API_KEY: key,
        DATABASE_URL: 'postgres://x@127.0.0.1/x',
        REDIS_URL: 'redis://127.0.0.1:6379',
      },
    });
    try {
      expect((await prod.post('/local/messages', msg('p', 'hi'))).status).toBe(401);
      expect((await prod.post('/local/messages', msg('p', 'hi'), { 'x-api-key': 'wrong' })).status).toBe(401);
      expect((await prod.post('/local/messages', msg('p', 'hi', { wait: true }), { 'x-api-key': key })).status).toBe(
        200,
      );
    } finally {
      await prod.close();
    }
  });
});
