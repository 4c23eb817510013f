/** What an operator relies on: metrics that move, the queue board behind auth, and the model circuit breaker. */
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BREAKER_OPEN_NOTICE } from '../../src/agent/breaker.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

const ADMIN = 'admin-key-0123456789abcdef';
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({
    env: { ADMIN_API_KEY: ADMIN, MODEL_RETRIES: '0', MODEL_BREAKER_THRESHOLD: '2', MODEL_BREAKER_RESET_MS: '1500' },
  });
});
afterAll(async () => app?.close());

const say = (conversation: string, text: string) =>
  app.post('/local/messages', { conversation, user: 'ops', text, wait: true });

describe('operations', () => {
  it('exposes Prometheus metrics that count inbound events, turns, tokens, sends, memory operations and queue depth', async () => {
    expect((await say('m1', 'count me')).status).toBe(200);
    const text = await (await fetch(`${app.url}/metrics`)).text();
    const value = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN);
    expect(value(/gateway_inbound_events_total\{platform="local",outcome="accepted"\} (\d+)/)).toBeGreaterThanOrEqual(
      1,
    );
    expect(value(/gateway_turns_total\{outcome="replied"\} (\d+)/)).toBeGreaterThanOrEqual(1);
    expect(value(/gateway_model_tokens_total\{direction="output"\} (\d+)/)).toBeGreaterThan(0);
    expect(value(/gateway_outbound_parts_total\{platform="local",result="sent"\} (\d+)/)).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/gateway_queue_depth\{queue="turns",state="wait"\} \d+/);
    expect(text).toMatch(/gateway_turn_duration_seconds_bucket/);
    // Each turn recalls memories for its user: the store's operations are counted.
    expect(
      value(/gateway_memory_operations_total\{store="postgres",op="search",result="ok"\} (\d+)/),
    ).toBeGreaterThanOrEqual(1);
  });

  it('serves Bull Board only with the admin key', async () => {
    expect((await fetch(`${app.url}/admin/queues`)).status).toBe(401);
    expect((await fetch(`${app.url}/admin/queues`, { headers: { 'x-api-key': 'wrong-key-0123456789' } })).status).toBe(
      401,
    );
    const ok = await fetch(`${app.url}/admin/queues`, {
      headers: { authorization: `Basic ${Buffer.from(`admin:${ADMIN}`).toString('base64')}` },
    });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toMatch(/<html/i);
    const api = await fetch(`${app.url}/admin/queues/api/queues`, { headers: { 'x-api-key': ADMIN } });
    expect(api.status).toBe(200);
    expect(JSON.stringify(await api.json())).toContain('turns');
  });

  it('opens the circuit after repeated model failures, answers with a notice at once, and closes after a good probe', async () => {
    expect((await say('b1', 'boom [[fail]]')).body.replies[0].text).toMatch(/^Sorry/);
    expect((await say('b2', 'boom [[fail]]')).body.replies[0].text).toMatch(/^Sorry/);
    const started = Date.now();
    const open = await say('b3', 'a normal question');
    expect(open.body.replies[0].text).toBe(BREAKER_OPEN_NOTICE);
    expect(Date.now() - started).toBeLessThan(1_500);
    await new Promise((r) => setTimeout(r, 1_700)); // reset timeout: the next call is a half-open probe
    expect((await say('b3', 'are you back?')).body.replies[0].text).toBe('Echo: [ops] are you back?');
    // The message answered with the notice was not lost: it is in the session the model sees.
    const sql = postgres(app.db.url, { max: 1, onnotice: () => undefined });
    const rows =
      await sql`select i.item from session_items i join conversations c on c.session_id = i.session_id where c.key = 'local:default:b3' order by i.position`;
    await sql.end();
    expect(JSON.stringify(rows.map((r) => r.item))).toContain('a normal question');
    expect((await say('b4', 'still fine')).body.replies[0].text).toBe('Echo: [ops] still fine');
  });
});
