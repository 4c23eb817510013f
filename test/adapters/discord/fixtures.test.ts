/** The recorded Discord variants (test/fixtures/discord) through the real gateway client against the fake gateway. */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDiscordAdapter } from '../../../adapters/discord/index.js';
import { FakeDiscord, IDS, createSigner, loadFixture } from '../../fakes/discord/index.js';
import {
  REDIS_URL,
  captureLog,
  deleteKeys,
  recordingSink,
  testPrefix,
  waitFor,
  type RecordingSink,
} from './helpers.js';

const prefix = testPrefix('fixtures');
let redis: Redis;
let fake: FakeDiscord;
let sink: RecordingSink;
let adapter: ReturnType<typeof createDiscordAdapter>;

beforeAll(async () => {
  redis = new Redis(REDIS_URL);
  fake = await new FakeDiscord().start();
  sink = recordingSink();
  adapter = createDiscordAdapter({
    token: fake.token,
    applicationId: IDS.app,
    publicKey: createSigner().publicKeyHex,
    apiUrl: fake.apiUrl,
    redis,
    keyPrefix: prefix,
    leaseTtlMs: 3000,
    log: captureLog().log,
  });
  await adapter.start!(sink);
  await waitFor(() => adapter.health().state === 'up', 'gateway up');
});
afterAll(async () => {
  await adapter.stop!();
  await fake.stop();
  await deleteKeys(redis, prefix);
  redis.disconnect();
});

const dispatch = (name: string) => {
  const { d } = loadFixture<{ d: Record<string, unknown> }>(name);
  fake.gateway.dispatch('MESSAGE_CREATE', d);
  return waitFor(() => sink.events.find((e) => e.id === `discord:${d.id as string}`), name);
};

describe('recorded Discord MESSAGE_CREATE payloads', () => {
  it('a guild message mentioning the bot is a group event in the guild, mention stripped', async () => {
    const event = await dispatch('gateway_message_create_guild_mention.json');
    expect(event).toMatchObject({
      tenant: IDS.guild,
      text: 'what is on the agenda today?',
      mentionsBot: true,
      conversation: { platform: 'discord', tenant: IDS.guild, channel: IDS.channel, kind: 'group' },
      sender: { id: IDS.user, isBot: false },
    });
  });

  it('a DM is a dm event keyed by its author', async () => {
    const event = await dispatch('gateway_message_create_dm.json');
    expect(event).toMatchObject({
      tenant: 'dm',
      text: 'can you summarise this thread for me?',
      conversation: { platform: 'discord', tenant: 'dm', channel: IDS.dmChannel, kind: 'dm', user: IDS.user },
    });
  });
});
