import { GatewayIntentBits } from 'discord.js';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDiscordAdapter } from '../../../adapters/discord/index.js';
import type { InboundEvent } from '../../../src/core/types.js';
import {
  FakeDiscord,
  IDS,
  OTHER_BOT,
  BOT_USER,
  createSigner,
  mentioning,
  messageCreate,
} from '../../fakes/discord/index.js';
import {
  REDIS_URL,
  captureLog,
  deleteKeys,
  recordingSink,
  sleep,
  testPrefix,
  trackUnhandled,
  waitFor,
  type RecordingSink,
} from './helpers.js';

const prefix = testPrefix('gateway');
const signer = createSigner();
const tuning = { fatalRetryMs: 300, retryBaseMs: 100, retryMaxMs: 400, connectTimeoutMs: 5000, maxQuickReconnects: 3 };
let redis: Redis;
const unhandled = trackUnhandled();

beforeAll(() => {
  redis = new Redis(REDIS_URL);
});
afterAll(async () => {
  unhandled.dispose();
  await deleteKeys(redis, prefix);
  redis.disconnect();
});

function adapterFor(fake: FakeDiscord, keyPrefix: string, log = captureLog().log) {
  return createDiscordAdapter({
    token: fake.token,
    applicationId: IDS.app,
    publicKey: signer.publicKeyHex,
    apiUrl: fake.apiUrl,
    redis,
    keyPrefix,
    leaseTtlMs: 3000,
    log,
    gatewayTuning: tuning,
  });
}

describe('discord gateway: messages and gating', () => {
  let fake: FakeDiscord;
  let sink: RecordingSink;
  let adapter: ReturnType<typeof createDiscordAdapter>;
  const byId = (id: string) => () => sink.events.find((e) => e.id === `discord:${id}`);
  /** Dispatch a message and then a mentioned sentinel in the same conversation; once the sentinel is in, the first was handled. */
  async function dispatchAndSettle(d: Record<string, any>): Promise<InboundEvent | undefined> {
    fake.gateway.dispatch('MESSAGE_CREATE', d);
    const sentinel = d.guild_id
      ? mentioning({ channelId: d.channel_id, content: 'sentinel' })
      : messageCreate({ guildId: null, channelId: d.channel_id, content: 'sentinel' });
    fake.gateway.dispatch('MESSAGE_CREATE', sentinel);
    await waitFor(byId(sentinel.id as string), 'sentinel');
    return byId(d.id as string)();
  }

  beforeAll(async () => {
    fake = await new FakeDiscord().start();
    fake.gateway.heartbeatIntervalMs = 500; // exercise heartbeats and ACKs during the suite
    sink = recordingSink();
    adapter = adapterFor(fake, `${prefix}:a`);
    expect(adapter.health().state).toBe('down');
    await adapter.start!(sink);
    await waitFor(() => adapter.health().state === 'up', 'gateway up');
  });
  afterAll(async () => {
    await adapter.stop!();
    await fake.stop();
  });

  it('connects through the API-provided gateway URL and identifies with the four intents', () => {
    expect(fake.rest.calls('GET', /^\/gateway\/bot$/).length).toBeGreaterThanOrEqual(1);
    const wanted =
      GatewayIntentBits.Guilds |
      GatewayIntentBits.GuildMessages |
      GatewayIntentBits.DirectMessages |
      GatewayIntentBits.MessageContent;
    expect(fake.gateway.identifies.map((i) => i.intents)).toEqual([wanted]);
    expect(adapter.health().detail).toContain(BOT_USER.id);
  });

  it('answers a DM and normalizes it', async () => {
    const d = messageCreate({ guildId: null, channelId: IDS.dmChannel, content: 'hi there' });
    fake.gateway.dispatch('MESSAGE_CREATE', d);
    const event = await waitFor(byId(d.id as string), 'dm');
    expect(event).toMatchObject({
      id: `discord:${d.id}`,
      platform: 'discord',
      tenant: 'dm',
      conversation: { platform: 'discord', tenant: 'dm', channel: IDS.dmChannel, kind: 'dm', user: IDS.user },
      sender: { id: IDS.user, name: 'Mason', isBot: false },
      text: 'hi there',
      mentionsBot: false,
      platformMessageId: d.id,
      kind: 'message',
    });
  });

  it('answers a DM whose payload lacks channel_type (documented fixture shape)', async () => {
    const d = messageCreate({
      guildId: null,
      channelId: '400000000000000077',
      content: 'old shape',
      omitChannelType: true,
    });
    fake.gateway.dispatch('MESSAGE_CREATE', d);
    const event = await waitFor(byId(d.id as string), 'dm without channel_type');
    expect(event.conversation.kind).toBe('dm');
  });

  it('answers a guild mention, with the mention stripped and attachments as metadata', async () => {
    const d = mentioning({
      content: 'look at <@53908099506183680> this',
      mentions: [{ id: IDS.user, username: 'Mason', discriminator: '9999', global_name: 'Mason', avatar: null }],
      attachments: [
        {
          id: '9',
          filename: 'plan.pdf',
          size: 1234,
          url: 'https://cdn.example/plan.pdf',
          proxy_url: 'https://media.example/plan.pdf',
          content_type: 'application/pdf',
        },
      ],
      referenceId: '334385199974967000',
    });
    fake.gateway.dispatch('MESSAGE_CREATE', d);
    const event = await waitFor(byId(d.id as string), 'guild mention');
    expect(event.conversation).toEqual({ platform: 'discord', tenant: IDS.guild, channel: IDS.channel, kind: 'group' });
    expect(event.tenant).toBe(IDS.guild);
    expect(event.text).toBe('look at @Mason this');
    expect(event.mentionsBot).toBe(true);
    expect(event.replyTo).toBe('334385199974967000');
    expect(event.attachments).toEqual([
      { name: 'plan.pdf', mimeType: 'application/pdf', size: 1234, url: 'https://cdn.example/plan.pdf' },
    ]);
  });

  it('ignores unmentioned guild messages, @everyone, other bots and its own messages', async () => {
    expect(await dispatchAndSettle(messageCreate({ content: 'just chatting' }))).toBeUndefined();
    expect(await dispatchAndSettle(messageCreate({ content: '@everyone hi', mentionEveryone: true }))).toBeUndefined();
    expect(await dispatchAndSettle(mentioning({ author: OTHER_BOT, content: 'bot talk' }))).toBeUndefined();
    expect(await dispatchAndSettle(mentioning({ author: BOT_USER, content: 'my own words' }))).toBeUndefined();
    expect(
      await dispatchAndSettle(
        messageCreate({ guildId: null, channelId: IDS.dmChannel, author: BOT_USER, content: 'my own dm' }),
      ),
    ).toBeUndefined();
  });

  it('answers in a thread once mentioned there, and in threads the bot started; not in other threads', async () => {
    expect(
      await dispatchAndSettle(messageCreate({ channelId: IDS.threadMentioned, content: 'before any mention' })),
    ).toBeUndefined();
    const mention = mentioning({ channelId: IDS.threadMentioned, content: 'can you help?' });
    fake.gateway.dispatch('MESSAGE_CREATE', mention);
    const first = await waitFor(byId(mention.id as string), 'thread mention');
    expect(first.conversation).toEqual({
      platform: 'discord',
      tenant: IDS.guild,
      channel: IDS.channel,
      thread: IDS.threadMentioned,
      kind: 'group',
    });
    const followUp = messageCreate({ channelId: IDS.threadMentioned, content: 'and also this' });
    fake.gateway.dispatch('MESSAGE_CREATE', followUp);
    expect((await waitFor(byId(followUp.id as string), 'thread follow-up')).mentionsBot).toBe(false);

    const inBotThread = messageCreate({ channelId: IDS.threadByBot, content: 'replying in your thread' });
    fake.gateway.dispatch('MESSAGE_CREATE', inBotThread);
    await waitFor(byId(inBotThread.id as string), 'bot thread');

    expect(
      await dispatchAndSettle(messageCreate({ channelId: IDS.threadOther, content: 'unrelated thread' })),
    ).toBeUndefined();
  });

  it('survives a dropped connection: resumes, replays what was missed, keeps receiving', async () => {
    const identifies = fake.gateway.identifies.length;
    fake.gateway.dropConnections(4000);
    await waitFor(() => fake.gateway.liveSessions().length === 0, 'drop');
    const missed = mentioning({ content: 'sent while disconnected' });
    fake.gateway.dispatch('MESSAGE_CREATE', missed);
    await waitFor(() => fake.gateway.resumes >= 1, 'resume');
    await waitFor(byId(missed.id as string), 'replayed message');
    await waitFor(() => adapter.health().state === 'up', 'up again');
    const after = mentioning({ content: 'after reconnect' });
    fake.gateway.dispatch('MESSAGE_CREATE', after);
    await waitFor(byId(after.id as string), 'message after reconnect');
    expect(fake.gateway.identifies.length).toBe(identifies); // resumed, not re-identified
    expect(unhandled.errors).toEqual([]);
  });
});

describe('discord gateway: fatal close codes', () => {
  it('reports down on 4014 (disallowed intents), names the intent, keeps retrying, recovers when enabled', async () => {
    const fake = await new FakeDiscord().start();
    fake.gateway.disallowedIntents = GatewayIntentBits.MessageContent;
    const logs = captureLog();
    const adapter = adapterFor(fake, `${prefix}:b`, logs.log);
    try {
      await adapter.start!(recordingSink());
      await waitFor(
        () => adapter.health().state === 'down' && adapter.health().detail?.includes('4014'),
        'down after 4014',
      );
      expect(adapter.health().detail).toContain('Message Content Intent');
      expect(logs.text()).toContain('Message Content Intent');
      expect(logs.text()).not.toContain(fake.token);
      await waitFor(() => fake.gateway.identifies.length >= 2, 'retry after long back-off');
      fake.gateway.disallowedIntents = 0;
      await waitFor(() => adapter.health().state === 'up', 'recovered');
      // a 4014 after READY (intent revoked while running) takes the same path
      fake.gateway.disallowedIntents = GatewayIntentBits.MessageContent;
      fake.gateway.closeSessions(4014);
      await waitFor(() => adapter.health().state === 'down', 'down after late 4014');
      fake.gateway.disallowedIntents = 0;
      await waitFor(() => adapter.health().state === 'up', 'recovered again');
      expect(unhandled.errors).toEqual([]);
    } finally {
      await adapter.stop!();
      await fake.stop();
    }
  });

  it('reports down with a clear reason on a bad token, without exiting or logging the token', async () => {
    const fake = await new FakeDiscord().start();
    const logs = captureLog();
    const adapter = createDiscordAdapter({
      token: 'wrong-token-value',
      applicationId: IDS.app,
      publicKey: signer.publicKeyHex,
      apiUrl: fake.apiUrl,
      redis,
      keyPrefix: `${prefix}:c`,
      log: logs.log,
      gatewayTuning: tuning,
    });
    try {
      await adapter.start!(recordingSink());
      await waitFor(
        () => adapter.health().state === 'down' && adapter.health().detail?.includes('4004'),
        'down after bad token',
      );
      expect(adapter.health().detail).toContain('DISCORD_TOKEN');
      await sleep(50);
      expect(logs.text()).not.toContain('wrong-token-value');
      expect(unhandled.errors).toEqual([]);
    } finally {
      await adapter.stop!();
      await fake.stop();
    }
  });

  it('backs off when the gateway is unreachable and comes up once it is back', async () => {
    const fake = await new FakeDiscord().start();
    const adapter = adapterFor(fake, `${prefix}:d`);
    const sink = recordingSink();
    try {
      await adapter.start!(sink);
      await waitFor(() => adapter.health().state === 'up', 'up');
      // The gateway refuses new sockets: discord.js would retry every 500 ms forever; we tear down and back off.
      const realUrl = fake.wsUrl;
      fake.gateway.wss.options.verifyClient = () => false;
      fake.gateway.dropConnections(4000);
      await waitFor(() => adapter.health().state === 'down', 'down while unreachable', 15_000);
      fake.gateway.wss.options.verifyClient = undefined as never;
      await waitFor(() => adapter.health().state === 'up', 'up again', 15_000);
      const d = mentioning({ content: 'back' });
      fake.gateway.dispatch('MESSAGE_CREATE', d);
      await waitFor(() => sink.events.find((e) => e.id === `discord:${d.id}`), 'message after outage');
      expect(realUrl).toBe(fake.wsUrl);
      expect(unhandled.errors).toEqual([]);
    } finally {
      await adapter.stop!();
      await fake.stop();
    }
  });
});
