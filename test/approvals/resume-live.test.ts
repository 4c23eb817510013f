/**
 * A run resumed by an approval is a turn like any other, end to end (real ingress, worker, Postgres, outbox, the
 * Telegram and Discord SDKs against the loopback fakes, the offline model, a real MCP server whose `shout` tool
 * needs approval):
 * - an admin who did not ask may approve on the platform (a stranger may not), and the run goes on for the person
 *   who asked (their memories, not the admin's);
 * - the resumed answer streams live (SSE on the local channel; on Telegram the prompt itself shows it as it is
 *   written) and still ends as one message: the prompt, replaced by the answer (a preview a killed attempt posted
 *   on its own is removed);
 * - `/stop` reaches the resumed run: the model call is aborted and the partial answer is kept, marked as stopped.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  discordPerson,
  localPerson,
  sleep,
  startPlatforms,
  telegramPerson,
  waitFor,
  type Person,
  type Platforms,
} from '../access/platforms.js';
import { callbackUpdate, mentionUpdate, postUpdate } from '../adapters/telegram/e2e-helpers.js';
import { commandInteraction, postInteraction } from '../adapters/discord/pipeline-helpers.js';
import { keys } from '../../src/queue/keys.js';
import { createRedis } from '../../src/queue/redis.js';
import { REDIS_URL } from '../helpers/services.js';
import { startHttpMcpServer, type HttpMcpServer } from '../fakes/mcp/server.js';
import type { SentMessage } from '../fakes/telegram/fake-bot-api.js';
import { openSse } from '../live/sse-client.js';

const ADA = telegramPerson('Ada'); // an admin (ADMIN_USERS)
const words = (n: number) => Array.from({ length: n }, (_, i) => `word${i}`).join(' ');
/** A message whose run stops at `shout` (needs approval); resumed, the answer streams a delta every `drip` ms. */
const shout = (n: number, drip: number) => `[[drip:${drip}]] [[tool:shout {"text":"${words(n)}"}]]`;
const shouted = (n: number) => `Tool shout said: ${words(n).toUpperCase()}!`;

let dir: string;
let mcp: HttpMcpServer;
let p: Platforms;

beforeAll(async () => {
  mkdirSync('test-artifacts', { recursive: true });
  dir = mkdtempSync(resolve('test-artifacts', 'resume-live-'));
  mcp = await startHttpMcpServer();
  const file = resolve(dir, 'agents.yaml');
  const loud = { name: 'loud', transport: 'http', url: mcp.url, allow: ['shout'], needsApproval: ['shout'] };
  writeFileSync(file, JSON.stringify({ agents: [{ name: 'helper', instructions: 'Help.', mcpServers: [loud] }] }));
  p = await startPlatforms({
    AGENTS_FILE: file,
    ADMIN_USERS: `telegram:${ADA.id}`,
    APPROVAL_TIMEOUT_MS: '120000',
    RATE_LIMIT_PER_MINUTE: '0',
    MEMORY_EXTRACT_DELAY_MS: '600000',
    MODEL_TIMEOUT_MS: '120000',
  });
}, 60_000);

afterAll(async () => {
  await p?.close();
  await mcp?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function approval(id: string): Promise<{ status: string; decided_by: string | null } | undefined> {
  const [row] = await p.sql<{ status: string; decided_by: string | null }[]>`
    select status, decided_by from approvals where id = ${id}`;
  return row;
}

/** `who` clicks a button of a Telegram prompt; resolves with the answer only they see. */
async function click(who: Person, prompt: SentMessage, data: string, chatType = 'private'): Promise<string> {
  const queryId = randomUUID();
  const chat = { id: Number(prompt.chat_id), type: chatType };
  const from = { id: Number(who.id), first_name: who.name };
  const update = callbackUpdate(queryId, from, { message_id: prompt.message_id, chat }, data);
  expect(await postUpdate(p.app.url, update)).toBe(200);
  const answer = await waitFor(
    () => p.telegram.callsOf('answerCallbackQuery').find((c) => c.params.callback_query_id === queryId),
    'callback answered',
  );
  return String(answer.params.text);
}

const approveData = (m: SentMessage) => m.reply_markup!.inline_keyboard[0]![0]!.callback_data!;

async function telegramPrompt(chatId: number): Promise<SentMessage> {
  return waitFor(
    () => p.telegram.sentTo(chatId).find((m) => m.text.includes('Approval needed') && m.reply_markup),
    'telegram prompt',
  );
}

async function localPrompt(who: Person): Promise<string> {
  const prompt = await waitFor(
    async () => (await p.dmReplies(who)).find((t) => t.includes('Approval needed')),
    'local prompt',
  );
  return /\/approve (\S+)`/.exec(prompt)![1]!;
}

describe('local channel: the resumed run is live', () => {
  it('Approve: the answer streams over SSE in several updates and ends as one reply with the full text', async () => {
    const lou = localPerson('lou');
    await p.dm(lou, shout(24, 150));
    const id = await localPrompt(lou);
    const sse = await openSse(`${p.app.url}/local/conversations/dm-${lou.id}/stream?user=${lou.id}`);
    await sse.next((e) => e.event === 'ready');
    expect(await p.command(lou, 'approve', id, { dm: true })).toBe('Approved: running it now.');
    const end = await sse.next((e) => e.event === 'end', 20_000);
    expect(end.data.stopped).toBe(false);
    const deltas = sse.events.filter((e) => e.event === 'delta' && e.data.turnId === end.data.turnId);
    expect(deltas.length).toBeGreaterThanOrEqual(2);
    expect(deltas.at(-1)!.at - deltas[0]!.at).toBeGreaterThan(300); // over time, not all at the end
    const all = await waitFor(async () => {
      const r = await p.dmReplies(lou);
      return r.length >= 2 && r;
    }, 'answer');
    expect(all[1]).toBe(shouted(24));
    expect(deltas.map((d) => d.data.text).join('')).toBe(all[1]);
    await sleep(300);
    expect(await p.dmReplies(lou)).toHaveLength(2); // prompt and answer: one final reply
    sse.close();
  });

  it('/stop aborts the resumed run within a second: the partial answer is kept, marked; queued messages run', async () => {
    const kim = localPerson('kim');
    await p.dm(kim, shout(90, 300)); // ~31 deltas 300 ms apart: some 9 s unless stopped
    const id = await localPrompt(kim);
    const sse = await openSse(`${p.app.url}/local/conversations/dm-${kim.id}/stream?user=${kim.id}`);
    await sse.next((e) => e.event === 'ready');
    expect(await p.command(kim, 'approve', id, { dm: true })).toBe('Approved: running it now.');
    await sse.next((e) => e.event === 'delta' && /WORD/.test(e.data.text));
    await p.dm(kim, 'and after that?');
    const asked = Date.now();
    expect(await p.command(kim, 'stop', '', { dm: true })).toBe('Stopping the answer in progress.');
    const stopped = await sse.next((e) => e.event === 'end');
    expect(stopped.data.stopped).toBe(true);
    const r = await waitFor(async () => {
      const x = await p.dmReplies(kim);
      return x.length >= 2 && x;
    }, 'stopped answer');
    const took = Date.now() - asked;
    expect(took).toBeLessThan(1_000);
    expect(r[1]).toMatch(/^Tool shout said: WORD0 .*\n\n_\(stopped\)_$/s);
    expect(r[1]!.length).toBeLessThan(shouted(90).length);
    expect((await approval(id))?.status).toBe('approved');
    const after = await waitFor(async () => {
      const x = await p.dmReplies(kim);
      return x.length >= 3 && x;
    }, 'the waiting message');
    expect(after[2]).toBe('Echo: and after that?');
    sse.close();
  });
});

describe('Telegram: the resumed run is previewed in its prompt', () => {
  it('Approve: the prompt shows the answer as it is written, then becomes the answer; still one message', async () => {
    const tom = telegramPerson('Tom');
    await p.dm(tom, shout(30, 200));
    const prompt = await telegramPrompt(Number(tom.id));
    expect(await click(tom, prompt, approveData(prompt))).toBe('Approved: running it now.');
    await waitFor(() => prompt.text === shouted(30), 'prompt replaced by the answer', 20_000);
    // Versions: the prompt, at least two live updates (text so far and an ellipsis), the answer.
    const live = prompt.versions.slice(1, -1);
    expect(live.length).toBeGreaterThanOrEqual(2);
    for (const v of live) {
      expect(v.endsWith(' …')).toBe(true); // more to come
      expect(shouted(30).startsWith(v.slice(0, -2).trimEnd())).toBe(true); // the answer so far
    }
    expect(live.some((v) => v.includes('WORD0'))).toBe(true);
    expect(prompt.reply_markup).toBeUndefined(); // buttons gone
    expect(p.telegram.callsTo('sendMessageDraft', tom.id)).toHaveLength(0); // the prompt is the preview
    await sleep(500);
    expect(p.telegram.sentTo(Number(tom.id))).toHaveLength(1);
  });

  it('/stop reaches the resumed run: the prompt ends as the partial answer, marked as stopped', async () => {
    const tia = telegramPerson('Tia');
    await p.dm(tia, shout(90, 300));
    const prompt = await telegramPrompt(Number(tia.id));
    const id = /^ap:y:(.+)$/.exec(approveData(prompt))![1]!;
    expect(await click(tia, prompt, approveData(prompt))).toBe('Approved: running it now.');
    await waitFor(() => prompt.versions.some((v) => v.includes('WORD0')), 'live updates', 20_000);
    const asked = Date.now();
    expect(await p.command(tia, 'stop', '', { dm: true })).toBe('Stopping the answer in progress.');
    await waitFor(() => /\(stopped\)$/.test(prompt.text), 'stopped answer in the prompt', 10_000);
    // The edit waits for the chat's send pace (the /stop answer was just sent there): well under the full answer.
    expect(Date.now() - asked).toBeLessThan(4_000);
    expect(prompt.text).toMatch(/^Tool shout said: WORD0 /);
    expect(prompt.text.length).toBeLessThan(shouted(90).length);
    expect((await approval(id))?.status).toBe('approved');
    await sleep(500);
    // The prompt (now the answer) and /stop's own answer: no second copy of the answer.
    expect(p.telegram.sentTo(Number(tia.id)).map((m) => m.text)).toEqual([
      prompt.text,
      'Stopping the answer in progress.',
    ]);
  });
});

describe('Discord: the resumed run is previewed in its prompt', () => {
  it('the prompt streams the answer and becomes it; a preview a killed attempt posted on its own goes', async () => {
    const dee = discordPerson('Dee');
    await p.dm(dee, shout(30, 300));
    const prompt = await waitFor(
      () =>
        p.discord.rest.messages.find(
          (m) => m.body?.components && String(m.message.content).includes('`shout`') && !m.deleted,
        ),
      'discord prompt',
    );
    const channelId = prompt.channelId;
    const buttons = prompt.body.components[0].components as { custom_id: string }[];
    const id = /^ap:y:(.+)$/.exec(buttons[0]!.custom_id)![1]!;
    // What an earlier attempt of this resumed turn may have left (killed before the prompt could be its preview):
    // a preview message of its own, recorded under the decision's event.
    const res = await fetch(`${p.discord.apiUrl}/v10/channels/${channelId}/messages`, {
      method: 'POST',
      headers: { authorization: `Bot ${p.discord.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'Tool shout said: WORD0 …' }),
    });
    const orphan = ((await res.json()) as { id: string }).id;
    const [row] = await p.sql<{ key: string }[]>`select conversation_key as key from approvals where id = ${id}`;
    const redis = createRedis(REDIS_URL);
    try {
      await redis.hset(keys(p.app.config.KEY_PREFIX).previews(row!.key), `approval:${id}`, orphan);
    } finally {
      redis.disconnect();
    }
    const user = { id: dee.id, username: 'dee', global_name: 'Dee' };
    const base = commandInteraction('x');
    const click = { ...base, type: 3, channel_id: channelId, guild_id: undefined, member: undefined, user };
    const ack = await postInteraction(p.app.url, p.signer, { ...click, data: { custom_id: buttons[0]!.custom_id } });
    expect(ack.status).toBe(200);
    await waitFor(() => prompt.message.content === shouted(30), 'prompt replaced by the answer', 20_000);
    const live = p.discord.rest.versions(prompt.message.id).slice(1, -1);
    expect(live.length).toBeGreaterThanOrEqual(2);
    for (const v of live) expect(shouted(30).startsWith(v.replace(/ …$/, '').trimEnd())).toBe(true);
    await waitFor(() => p.discord.rest.contents(channelId).length === 1, 'the orphan preview removed');
    expect(p.discord.rest.contents(channelId)).toEqual([shouted(30)]);
  });
});

describe('Telegram group: an admin decides for someone else', () => {
  it('a stranger is refused; an admin who did not ask approves, and the run goes on for the person who asked', async () => {
    const group = -(2_000_000_000_000 + (Date.now() % 1_000_000));
    const tess = telegramPerson('Tess');
    const mallory = telegramPerson('Mallory');
    const say = async (who: Person, text: string) => {
      const update = mentionUpdate({ id: group }, { id: Number(who.id), first_name: who.name }, text);
      expect(await postUpdate(p.app.url, update)).toBe(200);
    };
    const bySender = async (who: Person) =>
      Number(
        (
          await p.sql<{ n: number }[]>`select count(*)::int as n from memories
            where user_key like ${`telegram:%:${who.id}`} and kind = 'fact' and superseded_at is null`
        )[0]!.n,
      );
    await say(tess, '[[tool:remember {"fact":"Tess likes green tea"}]]');
    await waitFor(() => p.telegram.sentTo(group).length >= 1, 'first answer');
    await say(ADA, '[[tool:remember {"fact":"Ada likes black coffee"}]]');
    await waitFor(() => p.telegram.sentTo(group).length >= 2, 'second answer');
    expect([await bySender(tess), await bySender(ADA)]).toEqual([1, 1]);

    await say(tess, 'clean slate please [[tool:forget {"memory":"all"}]]');
    const prompt = await telegramPrompt(group);
    const id = /^ap:y:(.+)$/.exec(approveData(prompt))![1]!;
    expect(await click(mallory, prompt, approveData(prompt), 'supergroup')).toMatch(/Only the person who asked/);
    expect((await approval(id))?.status).toBe('pending');
    expect(await click(ADA, prompt, approveData(prompt), 'supergroup')).toBe('Approved: running it now.');
    await waitFor(() => prompt.text.startsWith('Tool forget said:'), 'prompt replaced by the answer', 15_000);
    expect(prompt.text).toBe('Tool forget said: Forgot 1 memories.');
    expect(prompt.reply_markup).toBeUndefined();
    expect(await approval(id)).toEqual({ status: 'approved', decided_by: `telegram:${ADA.id}` });
    // Tess's memories went, not the admin's who clicked.
    expect([await bySender(tess), await bySender(ADA)]).toEqual([0, 1]);
    const audit = await p.sql<{ actor: string; result: string }[]>`
      select actor, result from approval_audit where approval_id = ${id} order by at`;
    expect(audit).toEqual([
      { actor: `telegram:${mallory.id}`, result: 'refused' },
      { actor: `telegram:${ADA.id}`, result: 'accepted' },
    ]);
    await sleep(500);
    expect(p.telegram.sentTo(group)).toHaveLength(3); // two answers and the prompt, which became the third
  });
});
