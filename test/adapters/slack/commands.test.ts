/**
 * Slash commands through a real Fastify app: signed form bodies from the shared fixture, the answer POSTed to a
 * response_url served by the loopback fake.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSlackAdapter } from '../../../adapters/slack/index.js';
import type { CommandInvocation, CommandResult } from '../../../src/core/adapter.js';
import { registerAdapterRoutes } from '../../../src/ingress/raw-body.js';
import { FakeSlack } from '../../fakes/slack/fake-slack.js';
import { BOT, capturingLogger, fixtureText, recordingSink, signedHeaders } from '../../fakes/slack/requests.js';

const SECRET = 'test-signing-secret-commands';
const prefix = `test:slack-cmd:${randomUUID()}`;
const redis = new Redis(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
let fake: FakeSlack;
const apps: FastifyInstance[] = [];

beforeAll(async () => {
  fake = await new FakeSlack().start();
});

afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

afterAll(async () => {
  await fake.close();
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

/** The fixture's form body, with its response_url pointed at the fake and a fresh trigger id. */
function commandBody(fields: Record<string, string> = {}) {
  const form = new URLSearchParams(fixtureText('slash_command.txt'));
  const responseId = randomUUID();
  form.set('response_url', fake.responseUrl(responseId));
  form.set('trigger_id', `${Date.now()}.${randomUUID()}`);
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  return { body: form.toString(), responseId };
}

async function build(command?: (inv: CommandInvocation) => Promise<CommandResult>) {
  const { log, lines } = capturingLogger();
  const sink = recordingSink({ command, log });
  const adapter = createSlackAdapter({
    botToken: 'xoxb-cmd',
    signingSecret: SECRET,
    botUserId: BOT,
    apiUrl: fake.apiUrl,
    redis,
    keyPrefix: prefix,
    log,
  });
  const app = Fastify();
  apps.push(app);
  await registerAdapterRoutes(app, adapter, sink);
  await app.ready();
  const post = (
    body: string,
    headers = signedHeaders(SECRET, body, { contentType: 'application/x-www-form-urlencoded' }),
  ) => app.inject({ method: 'POST', url: '/slack/commands', payload: body, headers });
  return { sink, post, lines };
}

const responsesFor = (id: string) => fake.responses.filter((r) => r.id === id);

describe('slack slash commands', () => {
  it('acks at once with an empty 200, then POSTs the answer to response_url as ephemeral mrkdwn', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { sink, post } = await build(async () => {
      await gate; // the command is still running when Slack gets its ack
      return { text: 'It is **sunny** in 94070', ephemeral: true };
    });
    const { body, responseId } = commandBody();
    const res = await post(body);
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('');
    expect(responsesFor(responseId)).toHaveLength(0);

    release();
    const [answer] = await fake.waitFor(() => responsesFor(responseId).length > 0 && responsesFor(responseId));
    expect(answer!.body).toMatchObject({ response_type: 'ephemeral', text: 'It is *sunny* in 94070' });
    expect(sink.commands).toEqual([
      expect.objectContaining({
        platform: 'slack',
        tenant: 'T0001',
        name: 'weather',
        args: '94070',
        user: { id: 'U2147483697', name: 'Steve' },
        conversation: { platform: 'slack', tenant: 'T0001', channel: 'C2147483705', kind: 'group' },
      }),
    ]);
  });

  it("the app's own /agent command takes the command name from its first word; bare /agent is help", async () => {
    const { sink, post } = await build();
    const cases: Array<[string, string, string]> = [
      ['help', 'help', ''],
      ['', 'help', ''],
      ['  Reset  now please ', 'reset', 'now please'],
      ['/help', 'help', ''],
    ];
    for (const [text] of cases)
      expect((await post(commandBody({ command: '/agent', text }).body)).statusCode).toBe(200);
    await fake.waitFor(() => sink.commands.length === cases.length);
    expect(sink.commands.map((c) => [c.name, c.args])).toEqual(cases.map(([, name, args]) => [name, args]));
  });

  it('posts in_channel when the result is not ephemeral', async () => {
    const { post } = await build(async () => ({ text: 'for everyone', ephemeral: false }));
    const { body, responseId } = commandBody();
    await post(body);
    const [answer] = await fake.waitFor(() => responsesFor(responseId).length > 0 && responsesFor(responseId));
    expect(answer!.body).toMatchObject({ response_type: 'in_channel', text: 'for everyone' });
  });

  it('a redelivered trigger is answered once', async () => {
    const { sink, post } = await build();
    const { body, responseId } = commandBody();
    expect((await post(body)).statusCode).toBe(200);
    const again = await post(
      body,
      signedHeaders(SECRET, body, {
        contentType: 'application/x-www-form-urlencoded',
        timestamp: Math.floor(Date.now() / 1000) + 1,
      }),
    );
    expect(again.statusCode).toBe(200);
    expect(again.body).toBe('');
    await fake.waitFor(() => responsesFor(responseId).length > 0);
    await new Promise((r) => setTimeout(r, 200));
    expect(sink.commands).toHaveLength(1);
    expect(responsesFor(responseId)).toHaveLength(1);
  });

  it('a failing command is answered with a short apology, not silence or a crash', async () => {
    const { post, lines } = await build(async () => {
      throw new Error('database exploded');
    });
    const { body, responseId } = commandBody();
    expect((await post(body)).statusCode).toBe(200);
    const [answer] = await fake.waitFor(() => responsesFor(responseId).length > 0 && responsesFor(responseId));
    expect(answer!.body).toMatchObject({ response_type: 'ephemeral' });
    expect(String(answer!.body.text)).toMatch(/sorry/i);
    expect(String(answer!.body.text)).not.toContain('database exploded');
    // The operator sees that it failed and where (an error message can quote anything, so it is not logged).
    expect(lines.join('\n')).toContain('slack command failed');
    expect(lines.join('\n')).toContain('commands.test.ts');
    expect(lines.join('\n')).not.toContain('database exploded');
  });

  it('refuses unsigned or forged commands with 401 and runs nothing', async () => {
    const { sink, post } = await build();
    const { body } = commandBody();
    expect((await post(body, { 'content-type': 'application/x-www-form-urlencoded' })).statusCode).toBe(401);
    const forged = signedHeaders('not-the-secret', body, { contentType: 'application/x-www-form-urlencoded' });
    expect((await post(body, forged)).statusCode).toBe(401);
    expect((await post('command=%2Fweather&text=hi')).statusCode).toBe(400); // signed but not a command
    expect(sink.claims).toHaveLength(0);
    expect(sink.commands).toHaveLength(0);
  });

  it('never logs the response_url', async () => {
    const { post, lines } = await build(async () => {
      throw new Error('boom');
    });
    const { body, responseId } = commandBody();
    await post(body);
    await fake.waitFor(() => responsesFor(responseId).length > 0);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('\n')).not.toContain(responseId);
  });
});
