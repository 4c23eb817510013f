/**
 * Discord end to end on the REAL pipeline (the app started from `DISCORD_*` env, the real discord.js client against
 * the loopback fake) in deployments other than the default of pipeline.test.ts: DISCORD_ALLOW_BOTS=true, the
 * Message Content intent refused with close 4014, and two gateway processes sharing Redis, the database and one
 * gateway lease.
 */
import { GatewayIntentBits } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, uniqueName, type TestDatabase } from '../../helpers/services.js';
import { settleForDuplicates } from '../../helpers/settle.js';
import {
  FakeDiscord,
  OTHER_BOT,
  channelCreate,
  createSigner,
  mentioning,
  messageCreate,
  person,
  snowflake,
} from '../../fakes/discord/index.js';
import { trackUnhandled } from './helpers.js';
import { memoryLog, repliesIn, sleep, startDiscordApp, waitFor, type DiscordApp } from './pipeline-helpers.js';

const unhandled = trackUnhandled();
afterAll(() => unhandled.dispose());

describe('discord with DISCORD_ALLOW_BOTS=true', () => {
  let d: DiscordApp;

  beforeAll(async () => {
    d = await startDiscordApp({ env: { DISCORD_ALLOW_BOTS: 'true' } });
  });
  afterAll(async () => {
    await d?.app.close();
    await d?.fake.stop();
  });

  it('answers another bot, but never its own messages echoed back by Discord (no reply loop)', async () => {
    expect(d.fake.echoOwnMessages).toBe(true);
    const channel = channelCreate();
    d.fake.gateway.dispatch('CHANNEL_CREATE', channel);
    d.fake.gateway.dispatch(
      'MESSAGE_CREATE',
      mentioning({ channelId: channel.id as string, author: OTHER_BOT, content: 'beep boop' }),
    );
    expect(await repliesIn(d.fake, channel.id as string)).toEqual(['Echo: [otherbot] beep boop']);

    // In a DM every message is answered, so only the own-message rule stands between the bot and its echo.
    const dmChannel = snowflake();
    d.fake.gateway.dispatch(
      'MESSAGE_CREATE',
      messageCreate({ guildId: null, channelId: dmChannel, author: person('Ada'), content: 'hi bot' }),
    );
    expect(await repliesIn(d.fake, dmChannel)).toEqual(['Echo: hi bot']);
    // An answer to its own echo would be out by now: the turn takes milliseconds, the per-channel pacing 1 s.
    await sleep(2500);
    expect(d.fake.rest.contents(dmChannel)).toEqual(['Echo: hi bot']);
    expect(d.fake.rest.contents(channel.id as string)).toEqual(['Echo: [otherbot] beep boop']);
  });
});

describe('discord channel closed with 4014 (Message Content intent not enabled)', () => {
  let d: DiscordApp;
  const logs = memoryLog('info');

  beforeAll(async () => {
    d = await startDiscordApp({ log: logs.log });
  });
  afterAll(async () => {
    await d?.app.close();
    await d?.fake.stop();
  });

  it('keeps the process alive: /readyz shows discord down with the reason, the local channel still answers', async () => {
    const c = { channelId: snowflake(), author: person('Ada') };
    d.fake.gateway.dispatch(
      'MESSAGE_CREATE',
      messageCreate({ guildId: null, channelId: c.channelId, author: c.author, content: 'before' }),
    );
    expect(await repliesIn(d.fake, c.channelId)).toEqual(['Echo: before']);

    // The operator turns the privileged intent off: Discord closes the session with 4014 and refuses it from now on.
    d.fake.gateway.disallowedIntents = GatewayIntentBits.MessageContent;
    d.fake.gateway.closeSessions(4014);
    await waitFor(() => d.adapter.health().state === 'down', 'discord down after 4014');

    const res = await fetch(`${d.app.url}/readyz`);
    const ready = (await res.json()) as any;
    expect(res.status).toBe(200); // a down channel does not take the process out of service
    expect(ready.checks).toEqual({ redis: { ok: true }, database: { ok: true } });
    expect(ready.channels.discord.state).toBe('down');
    expect(ready.channels.discord.detail).toContain('4014');
    expect(ready.channels.discord.detail).toContain('Message Content Intent');
    expect(ready.channels.local.state).toBe('up');

    const local = await d.app.post('/local/messages', {
      conversation: 'c-4014',
      user: 'u1',
      text: 'is anyone there?',
      wait: true,
    });
    expect(local.status).toBe(200);
    expect(local.body.replies).toEqual([{ text: 'Echo: [u1] is anyone there?' }]);

    expect((await fetch(`${d.app.url}/healthz`)).status).toBe(200);
    expect(logs.text()).toContain('Message Content Intent');
    expect(logs.text()).not.toContain(d.fake.token);
    expect(d.fake.gateway.liveSessions()).toHaveLength(0); // it did not crash-loop into new sessions either
    expect(unhandled.errors).toEqual([]);
  });
});

describe('discord gateway lease between two gateway processes sharing Redis and the database', () => {
  const TTL_MS = 2000;
  let fake: FakeDiscord;
  let db: TestDatabase;
  const apps: DiscordApp[] = [];

  beforeAll(async () => {
    fake = await new FakeDiscord().start();
    fake.echoOwnMessages = true;
    db = await createTestDatabase();
  });
  afterAll(async () => {
    for (const a of apps.reverse()) await a.app.close().catch(() => undefined);
    await fake?.stop();
    await db?.drop();
  });

  it('only the holder connects; when it stops the stand-by connects within the lease TTL and answers', async () => {
    const signer = createSigner();
    const env = { KEY_PREFIX: uniqueName('dlease'), DISCORD_LEASE_TTL_MS: String(TTL_MS) };
    // A: gateway only. B: gateway + worker (the worker answers what either gateway takes in).
    const a = await startDiscordApp({ fake, signer, env, role: 'gateway', db });
    apps.push(a);
    const bLogs = memoryLog('debug');
    const b = await startDiscordApp({ fake, signer, env, role: 'all', db, waitUp: false, log: bLogs.log });
    apps.push(b);
    await sleep(TTL_MS / 2); // B's lease attempts run (every TTL/3) and fail
    expect(b.adapter.health().state).toBe('standby');
    expect(fake.gateway.identifies).toHaveLength(1);
    expect(fake.gateway.liveSessions()).toHaveLength(1);

    const c = { channelId: snowflake(), author: person('Ada') };
    const first = messageCreate({
      guildId: null,
      channelId: c.channelId,
      author: c.author,
      content: 'through the first holder',
    });
    fake.gateway.dispatch('MESSAGE_CREATE', first);
    expect(await repliesIn(fake, c.channelId)).toEqual(['Echo: through the first holder']);

    const stoppedAt = Date.now();
    await a.app.stop(); // releases the lease
    await waitFor(() => b.adapter.health().state === 'up', 'B connected', TTL_MS * 3);
    expect(Date.now() - stoppedAt).toBeLessThan(TTL_MS);
    expect(fake.gateway.identifies).toHaveLength(2);

    // The same message id reaching the new holder again is not answered twice (inbox dedupe across processes).
    fake.gateway.dispatch('MESSAGE_CREATE', first);
    fake.gateway.dispatch(
      'MESSAGE_CREATE',
      messageCreate({ guildId: null, channelId: c.channelId, author: c.author, content: 'through the new holder' }),
    );
    await repliesIn(fake, c.channelId, 2);
    await settleForDuplicates('discord');
    expect(fake.rest.contents(c.channelId)).toEqual(['Echo: through the first holder', 'Echo: through the new holder']);
    // It did reach the new holder's ingress (a fresh client, no cache to hide it) and was refused there as a duplicate.
    const submitted = bLogs
      .lines()
      .filter((l) => l.msg === 'discord message submitted' && l.eventId === `discord:${first.id}`);
    expect(submitted.map((l) => l.outcome)).toEqual(['duplicate']);
    expect(fake.gateway.maxLiveSessions).toBe(1); // never two gateway connections for one token
    expect(unhandled.errors).toEqual([]);
  });
});
