/**
 * Telegram live answers on the real pipeline (real grammY against the loopback fake Bot API): in a private chat the
 * answer shows as a draft (sendMessageDraft) and the committed reply is one ordinary message; in a group a
 * placeholder message is edited in place while the model writes and the outbox edits it into the reply.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeBotApi, type FakeBotApi } from '../fakes/telegram/fake-bot-api.js';
import {
  BOT,
  groupUpdate,
  mentions,
  newGroupId,
  newUpdateId,
  newUser,
  postUpdate,
  privateUpdate,
  sleep,
  startTelegramApp,
  waitFor,
  type TelegramApp,
} from '../adapters/telegram/e2e-helpers.js';
import { createRedis } from '../../src/queue/redis.js';
import { keys } from '../../src/queue/keys.js';
import { REDIS_URL } from '../helpers/services.js';
import { longReply } from '../../src/agent/offline-model.js';
import { DRAFT_INTERVAL_MS, GROUP_EDIT_INTERVAL_MS } from '../../adapters/telegram/limits.js';

let fake: FakeBotApi;
let t: TelegramApp;
const env = { RATE_LIMIT_PER_MINUTE: '0' };

beforeAll(async () => {
  fake = await startFakeBotApi();
  t = await startTelegramApp(fake, { mode: 'webhook', env });
});
afterAll(async () => {
  await t?.app.close();
  await fake?.close();
});

const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i}`).join(' ');
const edits = (chatId: number) => fake.callsTo('editMessageText', chatId);
const mention = (text: string) => {
  const full = `@${BOT.username} ${text}`;
  return { full, entities: mentions(full, BOT.username) };
};

describe('telegram live answers', () => {
  it('private chat: a draft grows while the model writes, then one message with the full reply', async () => {
    const user = newUser('Ada');
    const text = `[[drip:60]] ${words(40)}`;
    expect(await postUpdate(t.app.url, privateUpdate(user, text))).toBe(200);
    const final = `Echo: ${text}`;
    await waitFor(() => fake.sentTo(user.id).length >= 1, 'the reply');
    await sleep(DRAFT_INTERVAL_MS * 3);
    expect(fake.sentTo(user.id).map((m) => m.text)).toEqual([final]);
    const drafts = fake.drafts.filter((d) => d.chat_id === user.id);
    expect(drafts).toHaveLength(1); // one draft, animated from version to version
    expect(drafts[0]!.versions.length).toBeGreaterThanOrEqual(2);
    expect(drafts[0]!.versions[0]!.length).toBeLessThan(final.length);
    expect(drafts[0]!.versions[0]).toMatch(/^Echo: .* …$/);
    expect(fake.draftsIn(user.id)).toHaveLength(0); // the reply replaced it
    expect(edits(user.id)).toHaveLength(0);
    // Paced: drafts about the interval apart.
    const at = fake.callsTo('sendMessageDraft', user.id).map((c) => c.at);
    for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(DRAFT_INTERVAL_MS * 0.7);
  });

  it('private chat: drafts stay valid MarkdownV2 mid code block; a long reply continues in a second message', async () => {
    const user = newUser('Lin');
    expect(await postUpdate(t.app.url, privateUpdate(user, '[[long:6000]] [[drip:10]]'))).toBe(200);
    await waitFor(() => fake.sentTo(user.id).length >= 2, 'the reply in two messages', 30_000);
    await sleep(DRAFT_INTERVAL_MS * 3);
    const sent = fake.sentTo(user.id);
    expect(sent).toHaveLength(2);
    expect(sent.map((m) => m.text).join('\n')).toContain(longReply(6000).split('\n').at(-1));
    const calls = fake.callsTo('sendMessageDraft', user.id);
    // Every draft went out as MarkdownV2 (a refused one would have been resent as plain text)...
    expect(calls.length).toBeGreaterThanOrEqual(2);
    expect(calls.every((c) => c.params.parse_mode === 'MarkdownV2')).toBe(true);
    // ...including one cut inside the code block, whose fence the preview closed.
    const versions = fake.drafts.find((d) => d.chat_id === user.id)!.versions;
    expect(versions.some((v) => v.includes('const value0') && !v.includes('const value39'))).toBe(true);
    expect(versions.every((v) => v.length <= 4096)).toBe(true);
  });

  it('group: one placeholder edited in place, which becomes the reply (no second message)', async () => {
    const chat = { id: newGroupId() };
    const { full, entities } = mention(`[[drip:150]] ${words(120)}`);
    const update = groupUpdate(chat, { id: 4242, first_name: 'Grace' }, full, { entities });
    const sentAt = Date.now();
    expect(await postUpdate(t.app.url, update)).toBe(200);
    const final = `Echo: [Grace] [[drip:150]] ${words(120)}`;
    await waitFor(() => fake.sentTo(chat.id)[0]?.text === final, 'the reply in the placeholder', 30_000);
    await sleep(GROUP_EDIT_INTERVAL_MS + 500);
    const sent = fake.sentTo(chat.id);
    expect(sent.map((m) => m.text)).toEqual([final]);
    expect(fake.callsTo('sendMessage', chat.id)).toHaveLength(1);
    expect(sent[0]!.reply_to).toBe(update.message.message_id);
    expect(sent[0]!.versions.length).toBeGreaterThanOrEqual(3); // placeholder, at least one edit, the reply
    expect(sent[0]!.versions[0]).toMatch(/^Echo: .* …$/);
    expect(fake.callsTo('sendMessageDraft', chat.id)).toHaveLength(0);
    const at = [fake.callsTo('sendMessage', chat.id)[0]!.at, ...edits(chat.id).map((c) => c.at)];
    // Webhook in to the first visible text (a warm gateway), with a model whose first words come after 150 ms.
    console.log(JSON.stringify({ telegramFirstUpdateMs: at[0]! - sentAt, modelFirstTokenMs: 150 }));
    for (let i = 1; i < at.length - 1; i++)
      expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(GROUP_EDIT_INTERVAL_MS * 0.8);
  });

  it('group: a worker killed mid-stream; the retried turn takes the orphan placeholder over', async () => {
    const chat = { id: newGroupId() };
    const res = await fetch(`${fake.url}/bot${fake.token}/sendMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ chat_id: chat.id, text: 'Echo: half an ans …' }),
    });
    const orphan = ((await res.json()) as { result: { message_id: number } }).result.message_id;
    const updateId = newUpdateId();
    const redis = createRedis(REDIS_URL);
    try {
      const k = keys(t.app.config.KEY_PREFIX).previews(`telegram:${BOT.id}:${chat.id}`);
      await redis.hset(k, `telegram:${BOT.id}:${updateId}`, String(orphan));
    } finally {
      redis.disconnect();
    }
    const { full, entities } = mention(`[[drip:40]] ${words(20)}`);
    const update = { ...groupUpdate(chat, { id: 4343, first_name: 'Cy' }, full, { entities }), update_id: updateId };
    expect(await postUpdate(t.app.url, update)).toBe(200);
    const final = `Echo: [Cy] [[drip:40]] ${words(20)}`;
    await waitFor(() => fake.sentTo(chat.id)[0]?.text === final, 'the reply in the orphan', 30_000);
    await sleep(GROUP_EDIT_INTERVAL_MS + 500);
    expect(fake.sentTo(chat.id).map((m) => m.text)).toEqual([final]);
    expect(fake.sentTo(chat.id)[0]!.message_id).toBe(orphan);
    expect(fake.callsTo('sendMessage', chat.id)).toHaveLength(1); // only the orphan itself
  });

  it('/stop ends a slow turn within a second, in a private chat (draft) and in a group (placeholder)', async () => {
    const user = newUser('Stu');
    const chat = { id: newGroupId() };
    const grace = { id: 4545, first_name: 'Grace' };
    const slow = `[[drip:300]] ${words(180)}`; // about 60 deltas 300 ms apart: some 18 s unless stopped
    const { full, entities } = mention(slow);
    expect(await postUpdate(t.app.url, privateUpdate(user, slow))).toBe(200);
    expect(await postUpdate(t.app.url, groupUpdate(chat, grace, full, { entities }))).toBe(200);
    await waitFor(
      () => fake.callsTo('sendMessageDraft', user.id).length && fake.sentTo(chat.id).length,
      'both answers showing',
    );
    const stopIn = (to: { id: number }, from: { id: number; first_name: string }, text: string) => {
      const cmd = { entities: [{ type: 'bot_command', offset: 0, length: text.length }] };
      if (to.id === from.id) {
        const u = privateUpdate({ ...from }, text);
        return { ...u, message: { ...u.message, ...cmd } };
      }
      return groupUpdate(to, from, text, cmd);
    };
    const stopped = (chatId: number) => () => fake.sentTo(chatId).find((m) => /\(stopped\)$/.test(m.text));
    for (const [to, from, text] of [
      [user, user, '/stop'],
      [chat, grace, `/stop@${BOT.username}`],
    ] as const) {
      const asked = Date.now();
      expect(await postUpdate(t.app.url, stopIn(to, from, text))).toBe(200);
      const answer = await waitFor(stopped(to.id), `the stopped answer in ${to.id}`, 10_000);
      const took = Date.now() - asked;
      console.log(JSON.stringify({ telegramStopMs: took, chat: to === user ? 'private' : 'group' }));
      expect(took).toBeLessThan(1_000);
      // What was written so far (the group's may be only the start: it was stopped right after the other).
      expect(answer.text).toMatch(/^Echo: (\[Grace\] )?\[\[drip:300\]\] .*\(stopped\)$/s);
      expect(answer.text.length).toBeLessThan(400);
    }
    await sleep(GROUP_EDIT_INTERVAL_MS + 500);
    // Besides the command's own answer, one message each: the partial answer (the group's placeholder, edited).
    const answers = (chatId: number) => fake.sentTo(chatId).filter((m) => !/Stopping/.test(m.text));
    expect(answers(user.id)).toHaveLength(1);
    expect(answers(chat.id)).toHaveLength(1);
    expect(answers(chat.id)[0]!.versions[0]).toMatch(/ …$/); // it was the placeholder
    expect(fake.draftsIn(user.id)).toHaveLength(0);
  });

  it('off by configuration: no drafts, no edits, the reply is sent once', async () => {
    const offFake = await startFakeBotApi();
    const off = await startTelegramApp(offFake, { mode: 'webhook', env: { ...env, LIVE_PREVIEWS_OFF: 'telegram' } });
    try {
      const user = newUser('Bo');
      expect(await postUpdate(off.app.url, privateUpdate(user, `[[drip:50]] ${words(20)}`))).toBe(200);
      const chat = { id: newGroupId() };
      const { full, entities } = mention(`[[drip:50]] ${words(20)}`);
      expect(await postUpdate(off.app.url, groupUpdate(chat, { id: 4444, first_name: 'Di' }, full, { entities }))).toBe(
        200,
      );
      await waitFor(() => offFake.sentTo(user.id).length && offFake.sentTo(chat.id).length, 'both replies');
      await sleep(1_000);
      expect(offFake.sentTo(user.id)).toHaveLength(1);
      expect(offFake.sentTo(chat.id)).toHaveLength(1);
      expect(offFake.callsOf('sendMessageDraft')).toHaveLength(0);
      expect(offFake.callsOf('editMessageText')).toHaveLength(0);
    } finally {
      await off.app.close();
      await offFake.close();
    }
  });
});
