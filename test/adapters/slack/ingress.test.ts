/**
 * The Events API route, driven through a real Fastify app mounted the way the gateway mounts adapters (raw-body
 * scope), with signed requests built from the shared fixtures. Thread tracking uses the real Redis.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createSlackAdapter, type SlackAdapterOptions } from '../../../adapters/slack/index.js';
import { registerAdapterRoutes } from '../../../src/ingress/raw-body.js';
import { IngressError } from '../../../src/core/errors.js';
import { inboundEventSchema } from '../../../src/core/types.js';
import { FakeSlack } from '../../fakes/slack/fake-slack.js';
import {
  BOT,
  HUMAN,
  TEAM,
  appMention,
  channelMessage,
  envelope,
  fixtureJson,
  fixtureText,
  recordingSink,
  signedHeaders,
  type RecordingSink,
} from '../../fakes/slack/requests.js';

const SECRET = 'test-signing-secret-ingress';
const prefix = `test:slack-ingress:${randomUUID()}`;
const redis = new Redis(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
const apps: FastifyInstance[] = [];
let ts = 1_700_000_100;
const nextTs = () => `${ts++}.000100`;

async function build(opts: Partial<SlackAdapterOptions> = {}, sink: RecordingSink = recordingSink()) {
  const adapter = createSlackAdapter({
    botToken: 'xoxb-ingress-test',
    signingSecret: SECRET,
    botUserId: BOT,
    redis,
    keyPrefix: prefix,
    ...opts,
  });
  const app = Fastify();
  apps.push(app);
  await registerAdapterRoutes(app, adapter, sink);
  await app.ready();
  const post = (
    payload: unknown,
    o: { timestamp?: number; extra?: Record<string, string>; headers?: Record<string, string> } = {},
  ) => {
    const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
    return app.inject({
      method: 'POST',
      url: '/slack/events',
      payload: body,
      headers: o.headers ?? signedHeaders(SECRET, body, o),
    });
  };
  return { sink, adapter, post };
}

afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

describe('slack events: verification and envelopes', () => {
  it('answers url_verification with the challenge', async () => {
    const { post, sink } = await build();
    const res = await post(fixtureText('url_verification.json'));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ challenge: fixtureJson('url_verification.json').challenge });
    expect(sink.submissions).toHaveLength(0);
  });

  it('refuses forged, stale, future-dated and unsigned requests with 401 and submits nothing', async () => {
    const { post, sink } = await build();
    const body = fixtureText('event_message_im.json');
    const now = Math.floor(Date.now() / 1000);
    const forged = {
      ...signedHeaders(SECRET, body),
      'x-slack-signature': signedHeaders('wrong-secret', body)['x-slack-signature']!,
    };
    const cases = [
      forged,
      signedHeaders(SECRET, body, { timestamp: now - 6 * 60 }),
      signedHeaders(SECRET, body, { timestamp: now + 6 * 60 }),
      { 'content-type': 'application/json' },
      signedHeaders(SECRET, body.replace('Hello', 'Hullo')), // signature over other bytes
    ];
    for (const headers of cases) {
      const res = await post(body, { headers });
      expect(res.statusCode).toBe(401);
    }
    expect(sink.submissions).toHaveLength(0);
  });

  it('answers 400 to malformed JSON and envelopes that do not fit the schema', async () => {
    const { post, sink } = await build();
    for (const bad of [
      '{"type": "event_callback", ',
      '[1,2]',
      '{"type":"event_callback","team_id":"T1"}',
      '{"type":"url_verification"}',
    ]) {
      expect((await post(bad)).statusCode).toBe(400);
    }
    const noTs = envelope({ type: 'message', channel: 'D024BE91L', channel_type: 'im', user: HUMAN, text: 'hi' });
    expect((await post(noTs)).statusCode).toBe(400);
    expect(sink.submissions).toHaveLength(0);
  });

  it('acknowledges unknown event and envelope types without submitting', async () => {
    const { post, sink } = await build();
    const reaction = envelope({
      type: 'reaction_added',
      user: HUMAN,
      reaction: 'thumbsup',
      item: { type: 'message', channel: 'C1', ts: '1.2' },
    });
    expect((await post(reaction)).statusCode).toBe(200);
    expect((await post({ type: 'app_rate_limited', team_id: TEAM, minute_rate_limited: 1518467820 })).statusCode).toBe(
      200,
    );
    expect(sink.submissions).toHaveLength(0);
  });

  it('answers 500 when the event cannot be queued, so Slack retries', async () => {
    const sink = recordingSink();
    sink.submit = async () => {
      throw new Error('queue down');
    };
    const { post } = await build({}, sink);
    const res = await post(fixtureText('event_message_im.json'));
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('queue down'); // internals stay in our log
  });

  it('acknowledges an event the pipeline refuses for good (too long, invalid), so Slack does not redeliver it', async () => {
    const sink = recordingSink();
    let refusal = new IngressError(413, 'message too long');
    sink.submit = async () => {
      throw refusal;
    };
    const { post } = await build({}, sink);
    expect((await post(fixtureText('event_message_im.json'))).statusCode).toBe(200);
    refusal = new IngressError(400, 'invalid event');
    expect((await post(fixtureText('event_message_im.json'))).statusCode).toBe(200);
    refusal = new IngressError(503, 'try later'); // may pass on a redelivery
    expect((await post(fixtureText('event_message_im.json'))).statusCode).toBe(500);
  });
});

describe('slack events: mapping and routing', () => {
  it('maps the DM fixture to one normalized event', async () => {
    const { post, sink } = await build();
    const res = await post(fixtureText('event_message_im.json'));
    expect(res.statusCode).toBe(200);
    expect(sink.events).toHaveLength(1);
    const e = sink.events[0]!;
    expect(() => inboundEventSchema.parse(e)).not.toThrow();
    expect(e).toMatchObject({
      id: 'slack:T123ABC456:D024BE91L:1355517523.000005',
      platform: 'slack',
      tenant: TEAM,
      conversation: { platform: 'slack', tenant: TEAM, channel: 'D024BE91L', kind: 'dm', user: HUMAN },
      sender: { id: HUMAN, isBot: false },
      text: 'Hello hello can you hear me?',
      mentionsBot: false,
      platformMessageId: '1355517523.000005',
      kind: 'message',
      sentAt: '2012-12-14T20:38:43.000Z',
    });
    expect(e.conversation.thread).toBeUndefined();
  });

  it('maps the app_mention + message double delivery and a retry to ONE event id', async () => {
    const { post, sink } = await build();
    const at = nextTs();
    const text = `<@${BOT}> what is up &amp; running?`;
    const mention = envelope(appMention({ ts: at, text }), 'EvMention1');
    const message = envelope(channelMessage({ ts: at, text }), 'EvMessage1');
    expect((await post(mention)).statusCode).toBe(200);
    expect((await post(message)).statusCode).toBe(200);
    expect(
      (await post(mention, { extra: { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' } })).statusCode,
    ).toBe(200);

    expect(sink.submissions).toHaveLength(3);
    expect(new Set(sink.submissions.map((s) => s.event.id))).toEqual(new Set([`slack:${TEAM}:C0CHAN01:${at}`]));
    expect(sink.events).toHaveLength(1);
    // Whichever delivery wins, the pipeline sees the same message.
    const strip = ({ raw: _r, receivedAt: _t, ...rest }: (typeof sink.submissions)[number]['event']) => rest;
    expect(strip(sink.submissions[1]!.event)).toEqual(strip(sink.submissions[0]!.event));
    expect(sink.events[0]).toMatchObject({
      text: 'what is up & running?',
      mentionsBot: true,
      conversation: { kind: 'group', channel: 'C0CHAN01', thread: at },
    });
  });

  it('answers follow-ups in a thread the bot was mentioned in, and ignores other channel chatter', async () => {
    const { post, sink } = await build();
    const root = nextTs();
    await post(envelope(appMention({ ts: root, text: `<@${BOT}> start` })));
    const reply = nextTs();
    await post(envelope(channelMessage({ ts: reply, thread_ts: root, text: 'and another thing' })));
    await post(envelope(channelMessage({ ts: nextTs(), thread_ts: '1600000000.000001', text: 'untracked thread' })));
    await post(envelope(channelMessage({ ts: nextTs(), text: 'top-level chatter' })));

    expect(sink.events.map((e) => e.text)).toEqual(['start', 'and another thing']);
    expect(sink.events[1]).toMatchObject({
      id: `slack:${TEAM}:C0CHAN01:${reply}`,
      mentionsBot: false,
      replyTo: root,
      conversation: { kind: 'group', channel: 'C0CHAN01', thread: root },
    });
  });

  it('a mention inside an existing thread replies there and tracks that thread', async () => {
    const { post, sink } = await build();
    const parent = nextTs();
    const mentionTs = nextTs();
    await post(envelope(appMention({ ts: mentionTs, thread_ts: parent, text: `hey <@${BOT}>` })));
    await post(envelope(channelMessage({ ts: nextTs(), thread_ts: parent, text: 'later in that thread' })));
    expect(sink.events.map((e) => [e.text, e.conversation.thread])).toEqual([
      ['hey', parent],
      ['later in that thread', parent],
    ]);
  });

  it('with replyInThread off, a top-level mention is a channel-level conversation', async () => {
    const { post, sink } = await build({ replyInThread: false });
    await post(envelope(appMention({ ts: nextTs(), text: `<@${BOT}> hi` })));
    expect(sink.events).toHaveLength(1);
    expect(sink.events[0]!.conversation.thread).toBeUndefined();
  });

  it('ignores other bots and its own messages; allowBots lets other bots through, never itself', async () => {
    const root = nextTs();
    const strict = await build();
    await strict.post(envelope(appMention({ ts: root, text: `<@${BOT}> watch this thread` })));
    const botMsg = envelope(
      channelMessage({
        ts: nextTs(),
        thread_ts: root,
        user: undefined,
        subtype: 'bot_message',
        bot_id: 'B0OTHER',
        text: 'beep',
      }),
    );
    const botWithUser = envelope(
      channelMessage({ ts: nextTs(), thread_ts: root, user: 'U0OTHERBOT', bot_id: 'B0OTHER', text: 'boop' }),
    );
    const own = envelope(
      channelMessage({ ts: nextTs(), thread_ts: root, user: BOT, bot_id: 'BBOT0001', text: 'my own reply' }),
    );
    for (const e of [botMsg, botWithUser, own]) expect((await strict.post(e)).statusCode).toBe(200);
    expect(strict.sink.events.map((e) => e.text)).toEqual(['watch this thread']);

    const lax = await build({ allowBots: true });
    for (const e of [botMsg, botWithUser, own]) await lax.post(e);
    expect(lax.sink.events.map((e) => [e.text, e.sender.isBot, e.sender.id])).toEqual([
      ['beep', true, 'B0OTHER'],
      ['boop', true, 'U0OTHERBOT'],
    ]);
  });

  it('edits are ignored by default and become kind "edit" turns with edits: new_turn', async () => {
    const original = nextTs();
    const editedAt = nextTs();
    const changed = envelope({
      type: 'message',
      subtype: 'message_changed',
      channel: 'D024BE91L',
      channel_type: 'im',
      ts: editedAt,
      message: {
        type: 'message',
        user: HUMAN,
        text: 'what is 2+3?',
        ts: original,
        edited: { user: HUMAN, ts: editedAt },
      },
      previous_message: { type: 'message', user: HUMAN, text: 'what is 2+2?', ts: original },
    });
    const unfurl = envelope({
      type: 'message',
      subtype: 'message_changed',
      channel: 'D024BE91L',
      channel_type: 'im',
      ts: nextTs(),
      message: {
        type: 'message',
        user: HUMAN,
        text: 'see https://example.com',
        ts: original,
        attachments: [{ title: 'Example' }],
      },
      previous_message: { type: 'message', user: HUMAN, text: 'see https://example.com', ts: original },
    });
    const deleted = envelope({
      type: 'message',
      subtype: 'message_deleted',
      channel: 'D024BE91L',
      channel_type: 'im',
      ts: nextTs(),
      deleted_ts: original,
    });

    const ignoring = await build();
    for (const e of [changed, unfurl, deleted]) expect((await ignoring.post(e)).statusCode).toBe(200);
    expect(ignoring.sink.submissions).toHaveLength(0);

    const turning = await build({ edits: 'new_turn' });
    for (const e of [changed, unfurl, deleted]) await turning.post(e);
    expect(turning.sink.events).toHaveLength(1);
    expect(turning.sink.events[0]).toMatchObject({
      id: `slack:${TEAM}:D024BE91L:${original}:edit:${editedAt}`,
      kind: 'edit',
      text: 'what is 2+3?',
      platformMessageId: original,
      conversation: { kind: 'dm', user: HUMAN },
    });
  });

  it('learns the bot user id with auth.test when not configured (once), and uses it to strip mentions', async () => {
    const fake = await new FakeSlack({ botUserId: 'UFROMAUTH' }).start();
    try {
      const { post, sink } = await build({ botUserId: undefined, apiUrl: fake.apiUrl });
      await post(envelope(appMention({ ts: nextTs(), text: '<@UFROMAUTH> hello there' })));
      await post(
        envelope(
          channelMessage({
            ts: nextTs(),
            channel: 'D024BE91L',
            channel_type: 'im',
            user: 'UFROMAUTH',
            text: 'my own DM echo',
          }),
        ),
      );
      expect(sink.events.map((e) => e.text)).toEqual(['hello there']);
      expect(fake.callsOf('auth.test')).toHaveLength(1);
      expect(fake.callsOf('auth.test')[0]!.auth).toBe('Bearer xoxb-ingress-test');
    } finally {
      await fake.close();
    }
  });
});
