/**
 * The Request URL's routing on its own (Fastify mounted as the gateway mounts adapters): whatever signed body
 * arrives, the answer is 200 or 400, never a crash or a 500 that would make Slack retry garbage; unknown event
 * types are acknowledged with a log line that names the type and nothing the user wrote.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import Fastify, { type FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSlackAdapter } from '../../../adapters/slack/index.js';
import { registerAdapterRoutes } from '../../../src/ingress/raw-body.js';
import { BOT, capturingLogger, envelope, recordingSink, signedHeaders } from '../../fakes/slack/requests.js';

const SECRET = 'routing-signing-secret';
const FORM = 'application/x-www-form-urlencoded';
const prefix = `test:slack-routing:${randomUUID()}`;
const redis = new Redis(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
const { log, lines } = capturingLogger();
const sink = recordingSink({ log });
let http: FastifyInstance;

beforeAll(async () => {
  const adapter = createSlackAdapter({
    botToken: 'xoxb-routing',
    signingSecret: SECRET,
    botUserId: BOT,
    redis,
    keyPrefix: prefix,
    log,
  });
  adapter.onBlockActions(async () => undefined);
  http = Fastify();
  await registerAdapterRoutes(http, adapter, sink);
  await http.ready();
});

afterAll(async () => {
  await http.close();
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

const post = (body: string, contentType: string) =>
  http.inject({
    method: 'POST',
    url: '/slack/events',
    payload: body,
    headers: signedHeaders(SECRET, body, { contentType }),
  });

describe('slack request url routing', () => {
  it('answers any signed body with 200 or 400, never 500', async () => {
    const json = fc.jsonValue().map((v) => JSON.stringify(v));
    const typed = fc
      .record({
        type: fc.constantFrom('block_actions', 'view_submission', 'event_callback', 'url_verification', 'x'),
        actions: fc.anything(),
      })
      .map((v) => JSON.stringify(v));
    const formOf = (payload: fc.Arbitrary<string>) =>
      fc
        .tuple(payload, fc.dictionary(fc.constantFrom('command', 'text', 'team_id', 'ssl_check', 'x'), fc.string()))
        .map(([p, extra]) => new URLSearchParams({ ...extra, payload: p }).toString());
    const body = fc.oneof(
      fc.record({
        body: fc.oneof(json, typed, fc.string()),
        contentType: fc.constantFrom('application/json', 'text/plain'),
      }),
      fc.record({
        body: fc.oneof(formOf(json), formOf(typed), fc.string()),
        contentType: fc.constantFrom(FORM, `${FORM}; charset=utf-8`),
      }),
    );
    await fc.assert(
      fc.asyncProperty(body, async ({ body: b, contentType }) => {
        const res = await post(b, contentType);
        expect([200, 400]).toContain(res.statusCode);
      }),
      { numRuns: 150 },
    );
  });

  it('acknowledges an unknown event type with a log line naming the type, not what the user wrote', async () => {
    const secret = 'pinned words the user wrote';
    const before = sink.submissions.length;
    const res = await post(
      JSON.stringify(
        envelope({ type: 'pin_added', user: 'U1', channel_id: 'C1', item: { message: { text: secret } } }),
      ),
      'application/json',
    );
    expect(res.statusCode).toBe(200);
    expect(sink.submissions).toHaveLength(before);
    const line = lines.find((l) => l.includes('pin_added'));
    expect(line).toContain('slack event type not handled, ignored');
    expect(lines.join('\n')).not.toContain(secret);
  });
});
