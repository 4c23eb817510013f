import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderDiscord } from '../../../adapters/discord/format.js';
import { createDiscordAdapter } from '../../../adapters/discord/index.js';
import type { CommandResult } from '../../../src/core/adapter.js';
import { registerAdapterRoutes } from '../../../src/ingress/raw-body.js';
import { FakeDiscord, IDS, createSigner, loadFixture } from '../../fakes/discord/index.js';
import { captureLog, recordingSink, sleep, waitFor, type CapturedLog, type RecordingSink } from './helpers.js';

const signer = createSigner();
const commandFixture = loadFixture<Record<string, any>>('interaction_application_command.json');
const pingFixture = loadFixture<Record<string, any>>('interaction_ping.json');

let fake: FakeDiscord;
let app: FastifyInstance;
let sink: RecordingSink;
let logs: CapturedLog;
/** The next command result; tests swap it to hold a command open or change its answer. */
let nextResult: () => Promise<CommandResult> = async () => ({ text: 'default', ephemeral: true });
let idSeq = 0;

function commandBody(overrides: Record<string, unknown> = {}): Record<string, any> {
  idSeq++;
  return {
    ...structuredClone(commandFixture),
    id: `78600872971521${String(idSeq).padStart(4, '0')}`,
    token: `interaction-token-${idSeq}-secret`,
    ...overrides,
  };
}

function post(body: unknown, headers?: Record<string, string>) {
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  return app.inject({
    method: 'POST',
    url: '/discord/interactions',
    payload,
    headers: headers ?? signer.headers(payload),
  });
}

const webhookCalls = (token: string) =>
  fake.rest.requests.filter((r) => r.path.startsWith(`/webhooks/${IDS.app}/${token}`));

beforeAll(async () => {
  fake = await new FakeDiscord().start();
  logs = captureLog();
  sink = recordingSink(() => nextResult(), logs.log);
  const adapter = createDiscordAdapter({
    token: fake.token,
    applicationId: IDS.app,
    publicKey: signer.publicKeyHex,
    apiUrl: fake.apiUrl,
    gateway: false,
    publicCommands: ['announce'],
    log: logs.log,
  });
  app = Fastify();
  await registerAdapterRoutes(app, adapter, sink);
  await app.ready();
});
afterAll(async () => {
  await app.close();
  await fake.stop();
});

describe('discord interactions endpoint', () => {
  it('answers 401 to a forged signature and runs nothing', async () => {
    const body = JSON.stringify(commandBody());
    const forged = createSigner().headers(body);
    const res = await post(body, forged);
    expect(res.statusCode).toBe(401);
    const unsigned = await post(body, { 'content-type': 'application/json' });
    expect(unsigned.statusCode).toBe(401);
    expect(sink.claims).toEqual([]);
    expect(sink.invocations).toEqual([]);
  });

  it('answers 401 to a validly signed interaction replayed 10 minutes later, and runs nothing', async () => {
    const body = JSON.stringify(commandBody());
    const old = String(Math.floor(Date.now() / 1000) - 600);
    const before = { claims: sink.claims.length, invocations: sink.invocations.length };
    const res = await post(body, signer.headers(body, old));
    expect(res.statusCode).toBe(401);
    const future = await post(body, signer.headers(body, String(Math.floor(Date.now() / 1000) + 600)));
    expect(future.statusCode).toBe(401);
    expect(sink.claims.length).toBe(before.claims);
    expect(sink.invocations.length).toBe(before.invocations);
  });

  it('answers PING with PONG', async () => {
    const res = await post(pingFixture);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ type: 1 });
  });

  it('answers 400 to a signed but malformed body', async () => {
    expect((await post('{not json')).statusCode).toBe(400);
    expect((await post({ type: 2, id: 'x' })).statusCode).toBe(400);
    expect((await post({ ...commandBody(), data: undefined })).statusCode).toBe(400);
  });

  it('defers at once, runs the command, then edits @original with its result', async () => {
    let release!: (r: CommandResult) => void;
    nextResult = () => new Promise((r) => (release = r));
    const body = commandBody();
    const res = await post(body);
    // The HTTP answer is back while the command is still running.
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ type: 5, data: { flags: 64 } });
    await waitFor(() => release, 'command started');
    const inv = sink.invocations.at(-1)!;
    expect(inv).toMatchObject({
      platform: 'discord',
      tenant: IDS.guild,
      name: 'cardsearch',
      args: 'The Gitrog Monster',
      id: `discord-int:${body.id}`,
      user: { id: '53908232506183680', name: 'Mason' },
      conversation: { platform: 'discord', tenant: IDS.guild, channel: '645027906669510667', kind: 'group' },
    });
    expect(webhookCalls(body.token)).toEqual([]);
    release({ text: 'Found **1** card', ephemeral: true });
    const [patch] = await waitFor(
      () => webhookCalls(body.token).length > 0 && webhookCalls(body.token),
      'PATCH @original',
    );
    expect(patch!.method).toBe('PATCH');
    expect(patch!.path).toBe(`/webhooks/${IDS.app}/${body.token}/messages/@original`);
    expect(patch!.body).toEqual({ content: 'Found **1** card', allowed_mentions: { parse: [] } });
  });

  it('runs a redelivered interaction once but still acknowledges it', async () => {
    nextResult = async () => ({ text: 'once', ephemeral: true });
    const body = commandBody();
    const before = sink.invocations.length;
    const [a, b] = await Promise.all([post(body), post(body)]);
    expect(a.json().type).toBe(5);
    expect(b.json().type).toBe(5);
    await waitFor(() => webhookCalls(body.token).length === 1, 'one PATCH');
    await sleep(150);
    expect(sink.invocations.length).toBe(before + 1);
    expect(webhookCalls(body.token).length).toBe(1);
    expect(sink.claims.filter((c) => c === `discord-int:${body.id}`).length).toBe(2);
  });

  it('splits a long answer: first part edits @original, the rest are ephemeral follow-ups', async () => {
    const long = Array.from({ length: 60 }, (_, i) => `Line ${i} ${'word '.repeat(15)}`).join('\n\n');
    nextResult = async () => ({ text: long, ephemeral: true });
    const body = commandBody();
    await post(body);
    const expected = renderDiscord(long).length;
    expect(expected).toBeGreaterThan(1);
    const calls = await waitFor(
      () => webhookCalls(body.token).length === expected && webhookCalls(body.token),
      'all parts',
    );
    expect(calls[0]!.method).toBe('PATCH');
    expect(calls.slice(1).every((c) => c.method === 'POST' && c.body.flags === 64)).toBe(true);
    expect(calls.every((c) => c.body.content.length <= 2000 && c.body.allowed_mentions.parse.length === 0)).toBe(true);
    expect(
      calls
        .map((c) => c.body.content)
        .join('\n\n')
        .replace(/\s+/g, ' ')
        .trim(),
    ).toBe(long.replace(/\s+/g, ' ').trim());
  });

  it('defers publicly for a public command, and moves a public answer out of an ephemeral deferral', async () => {
    nextResult = async () => ({ text: 'for everyone', ephemeral: false });
    const pub = commandBody({ data: { type: 1, name: 'announce', id: '1' } });
    expect((await post(pub)).json()).toEqual({ type: 5 });
    const [edit] = await waitFor(() => webhookCalls(pub.token).length > 0 && webhookCalls(pub.token), 'edit');
    expect(edit!.method).toBe('PATCH');

    const priv = commandBody(); // deferred ephemeral, answer is public -> public follow-up, placeholder deleted
    await post(priv);
    const calls = await waitFor(
      () => webhookCalls(priv.token).length === 2 && webhookCalls(priv.token),
      'follow-up and delete',
    );
    expect(calls.map((c) => c.method)).toEqual(['POST', 'DELETE']);
    expect(calls[0]!.body.flags).toBeUndefined();
  });

  it('maps DM and thread invocations to the same conversations as messages', async () => {
    nextResult = async () => ({ text: 'ok', ephemeral: true });
    const dm = commandBody({
      guild_id: undefined,
      member: undefined,
      user: { id: IDS.user, username: 'Mason' },
      channel_id: IDS.dmChannel,
    });
    await post(dm);
    const thread = commandBody({
      channel_id: IDS.threadMentioned,
      channel: { id: IDS.threadMentioned, type: 11, parent_id: IDS.channel },
    });
    await post(thread);
    await waitFor(() => webhookCalls(thread.token).length > 0 && webhookCalls(dm.token).length, 'both answered');
    const [dmInv, threadInv] = sink.invocations.slice(-2);
    expect(dmInv!.conversation).toEqual({
      platform: 'discord',
      tenant: 'dm',
      channel: IDS.dmChannel,
      kind: 'dm',
      user: IDS.user,
    });
    expect(threadInv!.conversation).toEqual({
      platform: 'discord',
      tenant: IDS.guild,
      channel: IDS.channel,
      thread: IDS.threadMentioned,
      kind: 'group',
    });
  });

  it('never logs the interaction token, even when the follow-up fails', async () => {
    nextResult = async () => {
      throw new Error('command exploded');
    };
    const body = commandBody();
    fake.rest.script({
      path: new RegExp(`/webhooks/${IDS.app}/${body.token}`),
      status: 404,
      body: { message: 'Unknown Webhook', code: 10015 },
    });
    await post(body);
    await waitFor(() => logs.text().includes('discord interaction reply failed'), 'failure logged');
    expect(logs.text()).toMatch(/"status":404,.*"code":10015|"code":10015,.*"status":404/); // Discord's code, not its message
    for (const secret of [body.token, 'interaction-token-', fake.token]) expect(logs.text()).not.toContain(secret);
  });
});
