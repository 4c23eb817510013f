/**
 * A second Discord application added at run time (PUT /admin/bots/discord/<name>), on the REAL app against the
 * loopback Discord fake with the real discord.js / @discordjs/ws pieces: it holds its own gateway connection, its
 * interactions are verified with its own public key at its own path, its slash commands are published, its messages
 * are answered with its own token, its approval prompts carry its own buttons and are decided at its own path,
 * the files sent to it are read, and a message both bots see is answered by each in its own conversation. Removed,
 * its connection closes.
 */
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BOT_USER,
  FakeDiscord,
  IDS,
  createSigner,
  messageCreate,
  person,
  snowflake,
} from '../../fakes/discord/index.js';
import { fixtureFile } from '../../helpers/files.js';
import type { TestSigner } from '../../fakes/discord/sign.js';
import { commandInteraction, repliesIn, sleep, startDiscordApp, waitFor, type DiscordApp } from './pipeline-helpers.js';

const ADMIN = 'admin-key-0123456789abcdef';
const BOT2 = {
  id: '1200000000000000000',
  username: 'secondbot',
  discriminator: '0',
  global_name: 'Second',
  avatar: null,
};

let first: DiscordApp;
let second: FakeDiscord;
let signer2: TestSigner;
let sql: postgres.Sql;

beforeAll(async () => {
  const front = await new FakeDiscord().start();
  front.echoOwnMessages = true; // each bot sees its own replies come back and must drop them
  second = front.serveAlso(await new FakeDiscord(`second-app-token.${snowflake()}`, BOT2).start());
  second.echoOwnMessages = true;
  signer2 = createSigner();
  first = await startDiscordApp({
    fake: front,
    env: { ADMIN_API_KEY: ADMIN, BOT_TOKEN_ENCRYPTION_KEY: 'ab'.repeat(32), BOTS_SYNC_MS: '60000' },
  });
  sql = postgres(first.app.db.url, { max: 1, onnotice: () => undefined });
}, 60_000);

afterAll(async () => {
  await sql?.end();
  await first?.app.close();
  await second?.stop();
  await first?.fake.stop();
});

const admin = (method: string, path: string, body?: unknown) =>
  fetch(`${first.app.url}${path}`, {
    method,
    headers: { 'x-api-key': ADMIN, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });

const interact = (signer: TestSigner, body: unknown) => {
  const payload = JSON.stringify(body);
  return fetch(`${first.app.url}/discord/bots/second/interactions`, {
    method: 'POST',
    headers: signer.headers(payload),
    body: payload,
  });
};

describe('a second Discord application added at run time', () => {
  it('holds its own gateway connection and answers with its own token; a message both bots see is answered by each', async () => {
    const put = await admin('PUT', '/admin/bots/discord/second', {
      token: second.token,
      applicationId: BOT2.id,
      publicKey: signer2.publicKeyHex,
    });
    expect(put.status).toBe(201);
    expect(await put.json()).toMatchObject({ tenant: BOT2.id, interactionsPath: '/discord/bots/second/interactions' });
    expect(await (await admin('GET', '/admin/bots')).text()).not.toContain(second.token);
    await waitFor(() => second.gateway.liveSessions().length === 1, 'the second application’s gateway session');
    // Its slash commands are published under its own application, like the environment's bot's at start-up.
    const puts = await waitFor(() => second.rest.commandPuts.length > 0 && second.rest.commandPuts, 'its commands');
    expect(puts[0]!.path).toContain(`/applications/${BOT2.id}/`);
    expect((puts[0]!.body as { name: string }[]).map((c) => c.name)).toContain('help');
    expect(first.fake.gateway.liveSessions()).toHaveLength(1);

    // One user message in a channel both bots are in, mentioning both: each bot's gateway delivers it.
    const msg = messageCreate({
      id: snowflake(),
      content: `<@${IDS.bot}> <@${BOT2.id}> hello both`,
      mentions: [BOT_USER, BOT2],
    });
    first.fake.gateway.dispatch('MESSAGE_CREATE', msg);
    second.gateway.dispatch('MESSAGE_CREATE', msg);
    const [fromSecond] = await repliesIn(second, IDS.channel);
    const [fromFirst] = await repliesIn(first.fake, IDS.channel);
    expect(fromSecond).toContain('hello both');
    expect(fromFirst).toContain('hello both');
    const posts = second.rest.calls('POST', new RegExp(`^/channels/${IDS.channel}/messages$`));
    expect(posts.length).toBeGreaterThan(0);
    expect(posts.every((r) => r.authorized)).toBe(true); // sent with the second application's token
    await sleep(1_500); // a second answer (or an echo answered) would show up now
    expect(second.rest.contents(IDS.channel)).toHaveLength(1);
    expect(first.fake.rest.contents(IDS.channel)).toHaveLength(1);

    const keys = await sql<
      { key: string }[]
    >`select key from conversations where key like ${`discord:%${IDS.channel}`}`;
    expect(keys.map((k) => k.key).sort()).toEqual([
      `discord:${BOT2.id}.${IDS.guild}:${IDS.channel}`,
      `discord:${IDS.guild}:${IDS.channel}`,
    ]);
  });

  it('verifies its interactions with its own public key at its own path and answers as its own application', async () => {
    expect((await interact(first.signer, { type: 1, id: snowflake() })).status).toBe(401);
    const ping = await interact(signer2, { type: 1, id: snowflake(), application_id: BOT2.id, token: 't', version: 1 });
    expect(ping.status).toBe(200);
    expect(await ping.json()).toEqual({ type: 1 });

    const cmd = await interact(signer2, commandInteraction('help', { application_id: BOT2.id }));
    expect(cmd.status).toBe(200);
    expect(((await cmd.json()) as { type: number }).type).toBe(5); // deferred
    await waitFor(
      () => first.fake.rest.calls('PATCH', new RegExp(`^/webhooks/${BOT2.id}/`)).length > 0,
      'the answer edited in through the second application’s webhook',
    );
  });

  it('asks for an approval with its own buttons, takes the click at its own path and edits its own prompt', async () => {
    const msg = messageCreate({
      id: snowflake(),
      content: `<@${BOT2.id}> clean slate please [[tool:forget {"memory":"all"}]]`,
      mentions: [BOT2],
    });
    second.gateway.dispatch('MESSAGE_CREATE', msg);
    const prompt = await waitFor(
      () => second.rest.messages.find((m) => m.body?.components && String(m.message.content).includes('Approval')),
      'the approval prompt, posted by the second application',
    );
    expect(first.fake.rest.messages.filter((m) => m.body?.components)).toEqual([]);
    const [approve] = prompt.body.components[0].components as { label: string; custom_id: string }[];
    expect(approve!.label).toBe('Approve');
    const base = commandInteraction('x', { application_id: BOT2.id });
    const author = msg.author as Record<string, unknown>;
    const click = {
      ...base,
      type: 3,
      channel_id: prompt.channelId,
      guild_id: IDS.guild,
      member: { ...(base.member as object), user: author },
      data: { custom_id: approve!.custom_id, component_type: 2 },
    };
    const res = await interact(signer2, click);
    expect(res.status).toBe(200);
    await waitFor(() => (prompt.edits?.length ?? 0) > 0, 'the prompt edited with the answer');
    expect(String(prompt.message.content)).toMatch(/^Tool forget said: /);
    const edit = second.rest.requests.find(
      (r) => r.method === 'PATCH' && r.path.endsWith(`/messages/${prompt.message.id}`),
    );
    expect(edit?.authorized).toBe(true); // with the second application's token
    expect(edit?.body.components).toEqual([]);
    const decided = await sql<{ status: string }[]>`select status from approvals order by created_at desc limit 1`;
    expect(decided[0]?.status).toBe('approved');
  });

  it('reads the files sent to it: an image in a DM to the added application reaches the model', async () => {
    // Discord's CDN serves every application's attachments: the front fake's, the origin the adapter allows.
    const png = fixtureFile('pixel.png');
    const image = first.fake.addAttachment('pixel.png', png, 'image/png');
    const channelId = snowflake();
    second.gateway.dispatch(
      'MESSAGE_CREATE',
      messageCreate({
        guildId: null,
        channelId,
        author: person('Ada'),
        content: 'what is this?',
        attachments: [image],
      }),
    );
    const [answer] = await repliesIn(second, channelId);
    expect(answer).toContain(`[image input: image/png, ${png.length} bytes]`);
    expect(first.fake.downloads.some((p) => p.endsWith('/pixel.png'))).toBe(true);
    expect(first.fake.rest.contents(channelId)).toEqual([]); // answered by the application it was sent to
  });

  it('once removed, closes its connection and its interactions path', async () => {
    expect((await admin('DELETE', '/admin/bots/discord/second')).status).toBe(204);
    await waitFor(() => second.gateway.liveSessions().length === 0, 'the second application’s session closed');
    expect((await interact(signer2, { type: 1, id: snowflake() })).status).toBe(404);
    expect(first.fake.gateway.liveSessions()).toHaveLength(1);
  });

  it('added again, then refused by Discord: /readyz names it as not up, and the process stays ready', async () => {
    const readyz = async () => {
      const res = await fetch(`${first.app.url}/readyz`);
      const body = (await res.json()) as { channels: Record<string, { detail?: string }> };
      return { status: res.status, detail: body.channels.discord?.detail ?? '' };
    };
    const put = await admin('PUT', '/admin/bots/discord/second', {
      token: second.token,
      applicationId: BOT2.id,
      publicKey: signer2.publicKeyHex,
    });
    expect(put.status).toBe(201);
    await waitFor(() => second.gateway.liveSessions().length === 1, 'the second application connected again');
    await waitFor(async () => (await readyz()).detail.includes('1/1 added bots up'), '/readyz: the bot up');
    second.gateway.closeSessions(4004); // Discord: authentication failed (its token was reset)
    await waitFor(async () => /0\/1 added bots up \(not up: second \w+\)/.test((await readyz()).detail), 'named');
    const now = await readyz();
    expect(now.status).toBe(200); // one bot's outage never takes the process out of service
    expect(now.detail).not.toContain(second.token);
  });
});
