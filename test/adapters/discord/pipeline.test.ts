/**
 * Discord end to end on the REAL pipeline: the app is started from env (`DISCORD_*`) like production, runs the real
 * discord.js client against the loopback fake (gateway websocket + REST), the real ingress sink, worker (offline
 * model), outbox and delivery. Every assertion reads what a Discord user would see: the messages the fake
 * received per channel, the interaction answers, the health the operator reads on /readyz.
 *
 * The default set-up here; other deployments (DISCORD_ALLOW_BOTS, the intent refused with 4014, two gateway
 * processes sharing one lease) are in pipeline-deployments.test.ts.
 */
import { GatewayIntentBits } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { longReply } from '../../../src/agent/offline-model.js';
import { settleForDuplicates } from '../../helpers/settle.js';
import {
  BOT_USER,
  type FakeDiscord,
  IDS,
  OTHER_BOT,
  USER,
  channelCreate,
  mentioning,
  messageCreate,
  person,
  snowflake,
  threadCreate,
} from '../../fakes/discord/index.js';
import { trackUnhandled } from './helpers.js';
import {
  commandInteraction,
  memoryLog,
  postInteraction,
  repliesIn,
  startDiscordApp,
  waitFor,
  type DiscordApp,
} from './pipeline-helpers.js';

const unhandled = trackUnhandled();
afterAll(() => unhandled.dispose());

const fences = (s: string) => (s.match(/```/g) ?? []).length;
const SEND_PATH = /^\/channels\/\d+\/messages$/;

describe('discord through the real pipeline', () => {
  let d: DiscordApp;
  let fake: FakeDiscord;
  const logs = memoryLog('info');

  beforeAll(async () => {
    d = await startDiscordApp({ log: logs.log });
    fake = d.fake;
  });
  afterAll(async () => {
    await d?.app.close();
    await d?.fake.stop();
  });

  /** A fresh DM conversation: its own DM channel and its own user (a DM session is keyed by the user). */
  const newDm = (name = 'Ada') => ({ channelId: snowflake(), author: person(name) });
  const dm = (c: { channelId: string; author: Record<string, unknown> }, content: string, id?: string) => {
    const m = messageCreate({
      guildId: null,
      channelId: c.channelId,
      author: c.author,
      content,
      ...(id ? { id } : {}),
    });
    fake.gateway.dispatch('MESSAGE_CREATE', m);
    return m;
  };
  /** A fresh guild text channel, announced over the gateway like Discord does. */
  const newChannel = () => {
    const ch = channelCreate();
    fake.gateway.dispatch('CHANNEL_CREATE', ch);
    return ch.id as string;
  };

  it('starts from DISCORD_* env: connects through the API-provided gateway URL with the Message Content intent', async () => {
    expect(d.adapter.health()).toMatchObject({ state: 'up' });
    expect(d.adapter.health().detail).toContain(IDS.bot);
    expect(fake.rest.calls('GET', /^\/gateway\/bot$/).every((r) => r.authorized)).toBe(true);
    expect(fake.gateway.identifies).toHaveLength(1);
    expect(fake.gateway.identifies[0]!.intents & GatewayIntentBits.MessageContent).toBe(
      GatewayIntentBits.MessageContent,
    );
    const ready = (await (await fetch(`${d.app.url}/readyz`)).json()) as any;
    expect(ready.channels.discord.state).toBe('up');
  });

  it('answers a DM in the DM channel', async () => {
    const c = newDm();
    dm(c, 'hello from a DM');
    expect(await repliesIn(fake, c.channelId)).toEqual(['Echo: hello from a DM']);
  });

  it('answers a guild mention in its channel, mention stripped, as a reply to the message', async () => {
    const channel = newChannel();
    const m = mentioning({ channelId: channel, content: 'what is up?' });
    fake.gateway.dispatch('MESSAGE_CREATE', m);
    expect(await repliesIn(fake, channel)).toEqual(['Echo: [Mason] what is up?']);
    const sent = fake.rest.messages.find((x) => x.channelId === channel)!;
    expect(sent.body.message_reference).toMatchObject({ message_id: m.id });
  });

  it('ignores an unmentioned guild message', async () => {
    const channel = newChannel();
    fake.gateway.dispatch(
      'MESSAGE_CREATE',
      messageCreate({ channelId: channel, content: 'just chatting among humans' }),
    );
    // A mention right after in the same channel: ingest and turns keep arrival order, so had the first message been
    // taken, it would show up in this (or an earlier) reply.
    fake.gateway.dispatch('MESSAGE_CREATE', mentioning({ channelId: channel, content: 'sentinel one' }));
    await repliesIn(fake, channel);
    await settleForDuplicates('discord', 'group');
    expect(fake.rest.contents(channel)).toEqual(['Echo: [Mason] sentinel one']);
  });

  it('ignores messages written by bots, its own included, even when they mention it', async () => {
    const channel = newChannel();
    fake.gateway.dispatch(
      'MESSAGE_CREATE',
      mentioning({ channelId: channel, author: OTHER_BOT, content: 'beep from another bot' }),
    );
    fake.gateway.dispatch(
      'MESSAGE_CREATE',
      mentioning({ channelId: channel, author: BOT_USER, content: 'my own words' }),
    );
    fake.gateway.dispatch('MESSAGE_CREATE', mentioning({ channelId: channel, content: 'sentinel two' }));
    await repliesIn(fake, channel);
    await settleForDuplicates('discord', 'group');
    expect(fake.rest.contents(channel)).toEqual(['Echo: [Mason] sentinel two']);
  });

  it('after a mention in a thread, answers follow-ups there without a new mention, in the thread', async () => {
    const thread = threadCreate({ parentId: IDS.otherChannel });
    const threadId = thread.id as string;
    fake.gateway.dispatch('THREAD_CREATE', thread);
    fake.gateway.dispatch(
      'MESSAGE_CREATE',
      messageCreate({ channelId: threadId, content: 'before anyone asked the bot' }),
    );
    fake.gateway.dispatch('MESSAGE_CREATE', mentioning({ channelId: threadId, content: 'can you help?' }));
    expect(await repliesIn(fake, threadId)).toEqual(['Echo: [Mason] can you help?']);
    fake.gateway.dispatch('MESSAGE_CREATE', messageCreate({ channelId: threadId, content: 'and one more thing' }));
    expect(await repliesIn(fake, threadId, 2)).toEqual([
      'Echo: [Mason] can you help?',
      'Echo: [Mason] and one more thing',
    ]);
    expect(fake.rest.contents(IDS.otherChannel)).toEqual([]); // nothing lands in the parent channel
  });

  it('never pings: an echoed @everyone and user mention are sent with allowed_mentions.parse empty', async () => {
    const channel = newChannel();
    fake.gateway.dispatch(
      'MESSAGE_CREATE',
      mentioning({ channelId: channel, content: `tell @everyone and <@${USER.id}> hi`, mentions: [USER] }),
    );
    const [reply] = await repliesIn(fake, channel);
    expect(reply).toBe('Echo: [Mason] tell @everyone and @Mason hi');
    const body = fake.rest.messages.find((x) => x.channelId === channel)!.body;
    expect(body.allowed_mentions.parse).toEqual([]);
    expect(body.allowed_mentions.replied_user).not.toBe(true);
  });

  it('delivers a 10,000-character reply as ordered parts of at most 2,000 characters with balanced fences', async () => {
    const c = newDm('Grace');
    dm(c, 'write a lot [[long:10000]]');
    const expected = d.adapter.render(longReply(10_000));
    expect(expected.length).toBeGreaterThanOrEqual(5);
    const got = await repliesIn(fake, c.channelId, expected.length, 20_000);
    expect(got).toEqual(expected); // every part, in order, nothing lost or repeated
    for (const part of got) {
      expect(part.length).toBeLessThanOrEqual(2000);
      expect(fences(part) % 2).toBe(0);
    }
    const paragraphs = got
      .join('\n')
      .match(/Paragraph (\d+):/g)!
      .map((p) => Number(/\d+/.exec(p)![0]));
    expect(paragraphs).toEqual(paragraphs.map((_, i) => i));
    await settleForDuplicates('discord');
    expect(fake.rest.contents(c.channelId)).toHaveLength(expected.length);
  });

  it('answers a signed /help interaction with a deferral within 3 s, then edits @original with the registry help', async () => {
    const body = commandInteraction('help', { channel_id: IDS.channel });
    const res = await postInteraction(d.app.url, d.signer, body);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ type: 5, data: { flags: 64 } }); // "thinking…", visible to the invoker only
    expect(res.ms).toBeLessThan(3000);
    const original = new RegExp(`^/webhooks/${IDS.app}/${body.token}/messages/@original$`);
    const [patch] = await waitFor(
      () => fake.rest.calls('PATCH', original).length > 0 && fake.rest.calls('PATCH', original),
      'PATCH @original',
    );
    expect(patch!.body.content).toMatch(/^\*\*Commands\*\*/);
    expect(patch!.body.content).toContain('`/help` — List the commands you can use');
    expect(patch!.body.allowed_mentions).toEqual({ parse: [] });
    // The answer went to the interaction, not into the channel.
    expect(fake.rest.contents(IDS.channel)).toEqual([]);
  });

  it('runs a redelivered interaction once, acknowledging every delivery', async () => {
    const body = commandInteraction('help', { channel_id: IDS.channel });
    const [a, b] = await Promise.all([
      postInteraction(d.app.url, d.signer, body),
      postInteraction(d.app.url, d.signer, body),
    ]);
    const webhook = new RegExp(`^/webhooks/${IDS.app}/${body.token}`);
    const calls = () => fake.rest.requests.filter((r) => webhook.test(r.path));
    await waitFor(() => calls().length > 0, 'the answer');
    const c = await postInteraction(d.app.url, d.signer, body); // a late redelivery
    for (const r of [a, b, c]) expect(r).toMatchObject({ status: 200, json: { type: 5 } });
    await settleForDuplicates('discord');
    expect(calls().map((r) => r.method)).toEqual(['PATCH']);
  });

  it('keeps answering across a dropped gateway connection: resumes, replays what was missed, answers new messages', async () => {
    const identifies = fake.gateway.identifies.length;
    const resumes = fake.gateway.resumes;
    const c = newDm('Linus');
    dm(c, 'first question [[slow:2500]]');
    const typing = new RegExp(`^/channels/${c.channelId}/typing$`);
    await waitFor(() => fake.rest.calls('POST', typing).length > 0, 'the bot typing (turn running)');

    fake.gateway.dropConnections(4000); // resumable close, mid-conversation
    dm(c, 'sent while the connection was down'); // Discord buffers it for the resumed session
    await waitFor(() => fake.gateway.resumes > resumes && d.adapter.health().state === 'up', 'resumed and up');
    dm(c, 'after the reconnect');

    const joined = () => fake.rest.contents(c.channelId).join('\n');
    await waitFor(() => joined().includes('after the reconnect'), 'answer after the reconnect');
    const got = fake.rest.contents(c.channelId);
    expect(got[0]).toBe('Echo: first question [[slow:2500]]');
    const texts = ['first question', 'sent while the connection was down', 'after the reconnect'];
    const at = texts.map((t) => joined().indexOf(t));
    expect(at.every((p) => p >= 0)).toBe(true);
    expect([...at].sort((x, y) => x - y)).toEqual(at);
    for (const t of texts) expect(joined().split(t).length - 1).toBe(1);
    expect(fake.gateway.identifies.length).toBe(identifies); // resumed the session, no new login
    expect(d.adapter.health().detail).toMatch(/resumed/);
    expect((await fetch(`${d.app.url}/healthz`)).status).toBe(200);
    expect(unhandled.errors).toEqual([]);
  });

  it('sent every message with allowed_mentions.parse empty and a unique nonce with enforce_nonce', () => {
    const sends = fake.rest.calls('POST', SEND_PATH);
    expect(sends.length).toBeGreaterThanOrEqual(14); // everything this suite made the bot say
    for (const s of sends) {
      expect(s.authorized).toBe(true);
      expect(s.body.allowed_mentions?.parse).toEqual([]);
      expect(s.body.allowed_mentions?.replied_user).not.toBe(true);
      expect(s.body.enforce_nonce).toBe(true);
      expect(typeof s.body.nonce).toBe('string');
      expect(s.body.nonce.length).toBeGreaterThan(0);
      expect(s.body.nonce.length).toBeLessThanOrEqual(25);
    }
    // A nonce shared by two different parts would make Discord swallow the second one.
    const nonces = fake.rest.messages.map((m) => m.body.nonce);
    expect(new Set(nonces).size).toBe(nonces.length);
    expect(logs.text()).not.toContain(fake.token);
    expect(logs.text()).not.toContain('interaction-token-');
  });
});
