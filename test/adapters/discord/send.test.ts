import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { registerDiscordCommands } from '../../../adapters/discord/commands.js';
import { createDiscordAdapter } from '../../../adapters/discord/index.js';
import { createRest } from '../../../adapters/discord/client.js';
import { startTyping } from '../../../adapters/discord/send.js';
import { PermanentSendError, RateLimitedError } from '../../../src/core/errors.js';
import type { ConversationRef, RenderedPart } from '../../../src/core/types.js';
import { FakeDiscord, IDS, createSigner } from '../../fakes/discord/index.js';
import { sleep, waitFor } from './helpers.js';

let fake: FakeDiscord;
let adapter: ReturnType<typeof createDiscordAdapter>;
const channelRef: ConversationRef = { platform: 'discord', tenant: IDS.guild, channel: IDS.channel, kind: 'group' };
const threadRef: ConversationRef = { ...channelRef, thread: IDS.threadMentioned };
let turn = 0;
const part = (text: string, extra: Partial<RenderedPart> = {}): RenderedPart => ({
  text,
  index: 0,
  total: 1,
  idempotencyKey: `turn-${turn}:0`,
  ...extra,
});

beforeAll(async () => {
  fake = await new FakeDiscord().start();
  adapter = createDiscordAdapter({
    token: fake.token,
    applicationId: IDS.app,
    publicKey: createSigner().publicKeyHex,
    apiUrl: fake.apiUrl,
    gateway: false,
    maxRateLimitWaitMs: 5000,
  });
});
afterAll(async () => {
  await fake.stop();
});
beforeEach(() => {
  turn++;
});

describe('discord send', () => {
  it('posts content with no pings allowed, a nonce and enforce_nonce', async () => {
    const receipt = await adapter.send(channelRef, part('hello @everyone <@123>'));
    const created = fake.rest.messages.at(-1)!;
    expect(created.channelId).toBe(IDS.channel);
    expect(receipt.platformMessageId).toBe(created.message.id);
    expect(created.body.content).toBe('hello @everyone <@123>');
    expect(created.body.allowed_mentions).toEqual({ parse: [] });
    expect(created.body.enforce_nonce).toBe(true);
    expect(typeof created.body.nonce).toBe('string');
    expect(created.body.nonce.length).toBeGreaterThan(0);
    expect(created.body.nonce.length).toBeLessThanOrEqual(25);
    expect(created.body.message_reference).toBeUndefined();
  });

  it('replies with a message reference on the first part only, without pinging', async () => {
    await adapter.send(channelRef, part('one', { replyTo: '777', index: 0, total: 2, idempotencyKey: `r${turn}:0` }));
    await adapter.send(channelRef, part('two', { replyTo: '777', index: 1, total: 2, idempotencyKey: `r${turn}:1` }));
    const [first, second] = fake.rest.messages.slice(-2);
    expect(first!.body.message_reference).toEqual({ message_id: '777', fail_if_not_exists: false });
    expect(first!.body.allowed_mentions).toEqual({ parse: [], replied_user: false });
    expect(second!.body.message_reference).toBeUndefined();
    expect(second!.body.allowed_mentions).toEqual({ parse: [] });
    expect(first!.body.nonce).not.toBe(second!.body.nonce);
  });

  it('posts into the thread channel for a thread conversation', async () => {
    await adapter.send(threadRef, part('in thread'));
    expect(fake.rest.messages.at(-1)!.channelId).toBe(IDS.threadMentioned);
  });

  it('does not post twice when a part is retried (same idempotency key -> same nonce -> same message)', async () => {
    const before = fake.rest.messages.length;
    const a = await adapter.send(channelRef, part('once'));
    const b = await adapter.send(channelRef, part('once'));
    expect(b.platformMessageId).toBe(a.platformMessageId);
    expect(fake.rest.messages.length).toBe(before + 1);
    expect(
      fake.rest
        .calls('POST', new RegExp(`/channels/${IDS.channel}/messages`))
        .slice(-2)
        .map((r) => r.body.nonce),
    ).toEqual([fake.rest.messages.at(-1)!.body.nonce, fake.rest.messages.at(-1)!.body.nonce]);
  });

  it('waits out a short 429 through the REST queue and then sends', async () => {
    fake.rest.rateLimitOnce(new RegExp(`/channels/${IDS.otherChannel}/messages`), 0.3);
    const started = Date.now();
    const receipt = await adapter.send({ ...channelRef, channel: IDS.otherChannel }, part('after the limit'));
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    const calls = fake.rest.calls('POST', new RegExp(`/channels/${IDS.otherChannel}/messages`));
    expect(calls.length).toBe(2);
    expect(receipt.platformMessageId).toBe(fake.rest.messages.at(-1)!.message.id);
  });

  it('turns a long rate limit into RateLimitedError instead of blocking', async () => {
    const ch = '290926798999357299';
    fake.rest.rateLimitOnce(new RegExp(`/channels/${ch}/messages`), 60);
    const err = await adapter.send({ ...channelRef, channel: ch }, part('x')).catch((e) => e);
    expect(err).toBeInstanceOf(RateLimitedError);
    expect((err as RateLimitedError).retryAfterMs).toBeGreaterThanOrEqual(59_000);
  });

  it.each([
    [403, 50001, 'Missing Access', 'forbidden'],
    [403, 50007, 'Cannot send messages to this user', 'blocked'],
    [404, 10003, 'Unknown Channel', 'not_found'],
  ] as const)('maps %i / %i to PermanentSendError(%s -> %s)', async (status, code, message, reason) => {
    const ch = `29092679899935${code}`;
    fake.rest.channelErrors.set(ch, { status, code, message });
    const err = await adapter.send({ ...channelRef, channel: ch }, part('x')).catch((e) => e);
    expect(err).toBeInstanceOf(PermanentSendError);
    expect((err as PermanentSendError).reason).toBe(reason);
  });

  it('leaves server errors transient (not permanent, not rate limited)', async () => {
    fake.rest.script({
      method: 'POST',
      path: /\/channels\/290926798999357288\/messages/,
      status: 500,
      body: { message: 'oops', code: 0 },
      times: 10,
    });
    const err = await adapter.send({ ...channelRef, channel: '290926798999357288' }, part('x')).catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(PermanentSendError);
    expect(err).not.toBeInstanceOf(RateLimitedError);
  });

  it('shows typing now and again until stopped', async () => {
    const rest = createRest({ token: fake.token, apiUrl: fake.apiUrl });
    const typing = () => fake.rest.calls('POST', new RegExp(`/channels/${IDS.threadByBot}/typing`)).length;
    const stop = startTyping(rest, { ...channelRef, thread: IDS.threadByBot }, pino({ level: 'silent' }), 100);
    await waitFor(() => typing() >= 3, 'three typing calls');
    await stop();
    const n = typing();
    await sleep(300);
    expect(typing()).toBe(n);
    // the adapter's startTyping fires at once too, and never throws even when the channel is gone
    fake.rest.channelErrors.set('290926798999357277', { status: 404, code: 10003, message: 'Unknown Channel' });
    const stop2 = await adapter.startTyping!({ ...channelRef, channel: '290926798999357277' });
    await waitFor(
      () => fake.rest.calls('POST', /\/channels\/290926798999357277\/typing/).length === 1,
      'typing attempt',
    );
    await stop2();
  });

  it('registers global and guild slash commands with PUT', async () => {
    const commands = [
      {
        name: 'Remind',
        description: 'Set a reminder',
        options: [{ type: 3, name: 'text', description: 'what', required: true } as const],
      },
    ];
    const global = await registerDiscordCommands(
      { token: fake.token, applicationId: IDS.app, apiUrl: fake.apiUrl },
      commands,
    );
    await registerDiscordCommands(
      { token: fake.token, applicationId: IDS.app, guildId: IDS.guild, apiUrl: fake.apiUrl },
      commands,
    );
    expect(global[0]!.name).toBe('remind');
    expect(fake.rest.commandPuts.map((p) => p.path)).toEqual([
      `/applications/${IDS.app}/commands`,
      `/applications/${IDS.app}/guilds/${IDS.guild}/commands`,
    ]);
    expect(fake.rest.commandPuts[0]!.body).toEqual([
      { type: 1, name: 'remind', description: 'Set a reminder', options: commands[0]!.options },
    ]);
    expect(fake.rest.calls('PUT', /commands$/).every((r) => r.authorized)).toBe(true);
  });
});
