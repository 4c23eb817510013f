/**
 * Socket Mode with the real @slack/socket-mode client against the loopback fake: apps.connections.open hands out
 * a ws:// URL on the fake, which says hello, pushes envelopes and records acknowledgements.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';
import { createSlackAdapter, type BlockActions, type SlackAdapter } from '../../../adapters/slack/index.js';
import { SlackSocketMode } from '../../../adapters/slack/socket-mode.js';
import { registerAdapterRoutes } from '../../../src/ingress/raw-body.js';
import { FakeSlack } from '../../fakes/slack/fake-slack.js';
import {
  BOT,
  capturingLogger,
  fixtureJson,
  fixtureText,
  recordingSink,
  signedHeaders,
} from '../../fakes/slack/requests.js';

const prefix = `test:slack-socket:${randomUUID()}`;
const redis = new Redis(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
const APP_TOKEN = 'xapp-1-socket-test';
let fake: FakeSlack;
let adapter: SlackAdapter;
const SECRET = 's';
const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../fixtures/slack/${name}`, import.meta.url), 'utf8')) as Record<string, any>;
const submittedAt = new Map<string, number>();
const sink = recordingSink();
const submit = sink.submit.bind(sink);
sink.submit = async (event) => {
  await new Promise((r) => setTimeout(r, 50)); // a slow queue: the ack must still wait for it
  const result = await submit(event);
  submittedAt.set(event.id, Date.now());
  return result;
};

beforeAll(async () => {
  fake = await new FakeSlack().start();
  adapter = createSlackAdapter({
    botToken: 'xoxb-socket',
    signingSecret: SECRET,
    appToken: APP_TOKEN,
    botUserId: BOT,
    apiUrl: fake.apiUrl,
    redis,
    keyPrefix: prefix,
  });
  expect(adapter.health().state).not.toBe('up');
  await adapter.start!(sink);
  await fake.waitFor(() => adapter.health().state === 'up');
});

afterAll(async () => {
  await adapter.stop?.();
  await fake.close();
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

describe('slack socket mode', () => {
  it('opens the connection with the app token and reports up', () => {
    const open = fake.callsOf('apps.connections.open');
    expect(open.length).toBeGreaterThanOrEqual(1);
    expect(open[0]!.auth).toBe(`Bearer ${APP_TOKEN}`);
    expect(adapter.health()).toEqual({ state: 'up' });
  });

  it('submits events_api envelopes through the same parse path and acks only after submit resolved', async () => {
    fake.push({
      envelope_id: 'env-1',
      type: 'events_api',
      accepts_response_payload: false,
      payload: fixtureJson('event_message_im.json'),
    });
    const ack = await fake.waitFor(() => fake.acks.find((a) => a.envelope_id === 'env-1'));
    const id = 'slack:T123ABC456:D024BE91L:1355517523.000005';
    expect(sink.events.map((e) => [e.id, e.text, e.conversation.kind])).toEqual([
      [id, 'Hello hello can you hear me?', 'dm'],
    ]);
    expect(ack.at).toBeGreaterThanOrEqual(submittedAt.get(id)!);
  });

  it('acks ignored events too (so Slack does not redeliver them)', async () => {
    const payload = {
      ...fixtureJson('event_message_im.json'),
      event_id: 'EvIgnored',
      event: { type: 'reaction_added', user: 'U1', reaction: 'eyes' },
    };
    fake.push({ envelope_id: 'env-2', type: 'events_api', payload });
    await fake.waitFor(() => fake.acks.find((a) => a.envelope_id === 'env-2'));
    expect(sink.events).toHaveLength(1);
  });

  it('handles slash commands: ack, then the answer to response_url', async () => {
    const form = Object.fromEntries(new URLSearchParams(fixtureText('slash_command.txt')));
    const responseId = randomUUID();
    fake.push({
      envelope_id: 'env-3',
      type: 'slash_commands',
      accepts_response_payload: true,
      payload: { ...form, response_url: fake.responseUrl(responseId) },
    });
    await fake.waitFor(() => fake.acks.find((a) => a.envelope_id === 'env-3'));
    const answer = await fake.waitFor(() => fake.responses.find((r) => r.id === responseId));
    expect(answer.body).toMatchObject({ response_type: 'ephemeral', text: 'ran weather' });
  });

  it('hands interactive block_actions to the same handler seam as HTTP: ack, handler once, answer at response_url', async () => {
    const got: BlockActions[] = [];
    adapter.onBlockActions(async (payload, ctx) => {
      got.push(payload);
      await ctx.respond({ text: 'clicked', ephemeral: false });
    });
    try {
      const responseId = randomUUID();
      const payload = {
        ...fixture('block_actions.json'),
        trigger_id: `socket-${randomUUID()}`,
        response_url: fake.responseUrl(responseId),
      };
      fake.push({ envelope_id: 'env-4', type: 'interactive', accepts_response_payload: false, payload });
      fake.push({
        envelope_id: 'env-4b',
        type: 'interactive',
        accepts_response_payload: false,
        retry_attempt: 1,
        retry_reason: 'timeout',
        payload,
      });
      await fake.waitFor(() => fake.acks.find((a) => a.envelope_id === 'env-4b'));
      const answer = await fake.waitFor(() => fake.responses.find((r) => r.id === responseId));
      expect(answer.body).toMatchObject({ response_type: 'in_channel', text: 'clicked' });
      await new Promise((r) => setTimeout(r, 300));
      expect(got.map((p) => p.actions[0]!.action_id)).toEqual(['approve_request']);
    } finally {
      adapter.onBlockActions(undefined);
    }
  });

  it('acknowledges every kind exactly as the HTTP Request URL answers it', async () => {
    const http = Fastify();
    await registerAdapterRoutes(http, adapter, sink);
    const form = Object.fromEntries(new URLSearchParams(fixtureText('slash_command.txt')));
    const command = () => ({ ...form, trigger_id: randomUUID(), response_url: fake.responseUrl(randomUUID()) });
    const cases: Array<{ type: string; payload: Record<string, unknown>; malformed?: true }> = [
      { type: 'slash_commands', payload: command() },
      { type: 'slash_commands', payload: { command: '/agent' }, malformed: true },
      { type: 'interactive', payload: fixture('view_submission.json') },
      { type: 'interactive', payload: fixture('message_action.json') },
      { type: 'interactive', payload: { type: 'block_suggestion', action_id: 'pick', value: 'x', user: { id: 'U1' } } },
      { type: 'interactive', payload: { type: 'some_future_kind' } },
      { type: 'interactive', payload: { ...fixture('block_actions.json'), trigger_id: randomUUID() } }, // no handler
      {
        type: 'events_api',
        payload: {
          ...fixtureJson('event_message_im.json'),
          event_id: 'EvParity',
          event: { type: 'reaction_added', user: 'U1' },
        },
      },
    ];
    try {
      for (const [i, c] of cases.entries()) {
        const envelopeId = `env-parity-${i}`;
        fake.push({ envelope_id: envelopeId, type: c.type, accepts_response_payload: true, payload: c.payload });
        const socketAck = await fake.waitFor(() => fake.acks.find((a) => a.envelope_id === envelopeId));

        const body =
          c.type === 'events_api'
            ? JSON.stringify(c.payload)
            : c.type === 'slash_commands'
              ? new URLSearchParams({ ...(c.payload as Record<string, string>), trigger_id: randomUUID() }).toString()
              : new URLSearchParams({ payload: JSON.stringify(c.payload) }).toString();
        const contentType = c.type === 'events_api' ? 'application/json' : 'application/x-www-form-urlencoded';
        const res = await http.inject({
          method: 'POST',
          url: '/slack/events',
          payload: body,
          headers: signedHeaders(SECRET, body, { contentType }),
        });
        // What Slack gets back: Socket Mode acks a malformed envelope (HTTP says 400) and otherwise carries the HTTP body.
        const httpAnswer =
          res.statusCode === 400 || res.body === ''
            ? undefined
            : String(res.headers['content-type']).includes('json')
              ? res.json()
              : { text: res.body };
        expect(res.statusCode, `HTTP status of ${c.type} ${String(c.payload.type ?? c.payload.command)}`).toBe(
          c.malformed ? 400 : 200,
        );
        // The SDK sends an ack without a payload as `{}`.
        const socketAnswer =
          socketAck.payload && Object.keys(socketAck.payload).length > 0 ? socketAck.payload : undefined;
        expect(
          [res.statusCode === 400 ? 'malformed' : res.statusCode, socketAnswer],
          `${c.type} ${String(c.payload.type ?? c.payload.command)}`,
        ).toEqual([res.statusCode === 400 ? 'malformed' : 200, httpAnswer]);
      }
    } finally {
      await http.close();
    }
  });

  it('reports down after stop', async () => {
    await adapter.stop!();
    expect(adapter.health().state).toBe('down');
    await fake.waitFor(() => fake.connectedSockets === 0);
  });
});

describe('slack socket mode start', () => {
  it('does not throw when Slack refuses the connection, reports down, and keeps trying', async () => {
    const { log } = capturingLogger();
    const socket = new SlackSocketMode({ appToken: APP_TOKEN, apiUrl: fake.apiUrl, log, restartDelayMs: 100 });
    fake.failNext('apps.connections.open', { error: 'invalid_auth' });
    try {
      await expect(
        socket.start(recordingSink(), { contextFor: async () => Promise.reject(new Error('unused')), log }),
      ).resolves.toBeUndefined();
      const down = await fake.waitFor(() => socket.health().state === 'down' && socket.health());
      expect(down.detail).toContain('invalid_auth');
      await fake.waitFor(() => socket.health().state === 'up');
    } finally {
      await socket.stop();
    }
  });
});

describe('slack socket mode without a signing secret', () => {
  it('serves no HTTP ingress at all, so nothing unsigned can come in that way', async () => {
    const { default: Fastify } = await import('fastify');
    const http = Fastify();
    const bare = createSlackAdapter({
      botToken: 'xoxb-socket',
      signingSecret: '',
      appToken: APP_TOKEN,
      botUserId: BOT,
      apiUrl: fake.apiUrl,
      redis,
      keyPrefix: `${prefix}:bare`,
    });
    await bare.registerRoutes!(http, sink);
    try {
      const events = await http.inject({
        method: 'POST',
        url: '/slack/events',
        payload: fixtureText('event_message_im.json'),
        headers: { 'content-type': 'application/json' },
      });
      const commands = await http.inject({
        method: 'POST',
        url: '/slack/commands',
        payload: 'command=%2Fagent&text=help',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect([events.statusCode, commands.statusCode]).toEqual([404, 404]);
    } finally {
      await http.close();
    }
  });
});
