/**
 * Socket Mode with the real @slack/socket-mode client against the loopback fake: apps.connections.open hands out
 * a ws:// URL on the fake, which says hello, pushes envelopes and records acknowledgements.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSlackAdapter } from '../../../adapters/slack/index.js';
import { SlackSocketMode } from '../../../adapters/slack/socket-mode.js';
import type { ChannelAdapter } from '../../../src/core/adapter.js';
import { FakeSlack } from '../../fakes/slack/fake-slack.js';
import { BOT, capturingLogger, fixtureJson, fixtureText, recordingSink } from '../../fakes/slack/requests.js';

const prefix = `test:slack-socket:${randomUUID()}`;
const redis = new Redis(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
const APP_TOKEN = 'xapp-1-socket-test';
let fake: FakeSlack;
let adapter: ChannelAdapter;
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
  adapter = createSlackAdapter({ botToken: 'xoxb-socket', signingSecret: 's', appToken: APP_TOKEN, botUserId: BOT, apiUrl: fake.apiUrl, redis, keyPrefix: prefix });
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
    fake.push({ envelope_id: 'env-1', type: 'events_api', accepts_response_payload: false, payload: fixtureJson('event_message_im.json') });
    const ack = await fake.waitFor(() => fake.acks.find((a) => a.envelope_id === 'env-1'));
    const id = 'slack:T123ABC456:D024BE91L:1355517523.000005';
    expect(sink.events.map((e) => [e.id, e.text, e.conversation.kind])).toEqual([[id, 'Hello hello can you hear me?', 'dm']]);
    expect(ack.at).toBeGreaterThanOrEqual(submittedAt.get(id)!);
  });

  it('acks ignored events too (so Slack does not redeliver them)', async () => {
    const payload = { ...fixtureJson('event_message_im.json'), event_id: 'EvIgnored', event: { type: 'reaction_added', user: 'U1', reaction: 'eyes' } };
    fake.push({ envelope_id: 'env-2', type: 'events_api', payload });
    await fake.waitFor(() => fake.acks.find((a) => a.envelope_id === 'env-2'));
    expect(sink.events).toHaveLength(1);
  });

  it('handles slash commands: ack, then the answer to response_url', async () => {
    const form = Object.fromEntries(new URLSearchParams(fixtureText('slash_command.txt')));
    const responseId = randomUUID();
    fake.push({ envelope_id: 'env-3', type: 'slash_commands', accepts_response_payload: true, payload: { ...form, response_url: fake.responseUrl(responseId) } });
    await fake.waitFor(() => fake.acks.find((a) => a.envelope_id === 'env-3'));
    const answer = await fake.waitFor(() => fake.responses.find((r) => r.id === responseId));
    expect(answer.body).toMatchObject({ response_type: 'ephemeral', text: 'ran weather' });
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
      await expect(socket.start(recordingSink(), { contextFor: async () => Promise.reject(new Error('unused')), log })).resolves.toBeUndefined();
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
    const bare = createSlackAdapter({ botToken: 'xoxb-socket', signingSecret: '', appToken: APP_TOKEN, botUserId: BOT, apiUrl: fake.apiUrl, redis, keyPrefix: `${prefix}:bare` });
    await bare.registerRoutes!(http, sink);
    try {
      const events = await http.inject({ method: 'POST', url: '/slack/events', payload: fixtureText('event_message_im.json'), headers: { 'content-type': 'application/json' } });
      const commands = await http.inject({ method: 'POST', url: '/slack/commands', payload: 'command=%2Fagent&text=help', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect([events.statusCode, commands.statusCode]).toEqual([404, 404]);
    } finally {
      await http.close();
    }
  });
});
