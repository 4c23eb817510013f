/**
 * Approvals end to end on the real pipeline (ingress, inbox, worker, Postgres, outbox, the platform SDKs against
 * the loopback fakes, the offline model): a tool marked `needsApproval` (forgetting all memories) stops the run,
 * one prompt is shown with Approve / Reject (buttons on Slack, Discord and Telegram; commands on the local
 * channel), and only the person who asked (or an admin) can decide. Approve runs the tool and the answer replaces
 * the prompt; reject tells the model no; a prompt nobody answers expires; a second click changes nothing;
 * messages sent meanwhile wait and run after.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  discordPerson,
  localPerson,
  SLACK_SECRET,
  SLACK_TEAM,
  slackPerson,
  sleep,
  startPlatforms,
  telegramPerson,
  waitFor,
  type Person,
  type Platforms,
} from '../access/platforms.js';
import { postInteraction, commandInteraction } from '../adapters/discord/pipeline-helpers.js';
import { callbackUpdate, postUpdate } from '../adapters/telegram/e2e-helpers.js';
import { postSigned } from '../fakes/slack/requests.js';

const TIMEOUT_MS = 6_000;
const FORGET_ALL = 'clean slate please [[tool:forget {"memory":"all"}]]';

let p: Platforms;
beforeAll(async () => {
  p = await startPlatforms({ APPROVAL_TIMEOUT_MS: String(TIMEOUT_MS), RATE_LIMIT_PER_MINUTE: '0' });
});
afterAll(async () => p?.close());

async function status(id: string): Promise<string | undefined> {
  const [row] = await p.sql<{ status: string }[]>`select status from approvals where id = ${id}`;
  return row?.status;
}

/** `who` asks for something that needs an approval; resolves with the approval's id once the prompt shows. */
async function askLocal(who: Person): Promise<string> {
  await p.dm(who, FORGET_ALL);
  const prompt = await waitFor(
    async () => (await p.dmReplies(who)).find((t) => t.includes('Approval needed')),
    'prompt',
  );
  expect(prompt).toContain('`forget`');
  return /\/approve (\S+)`/.exec(prompt)![1]!;
}

/** `who` clicks a Block Kit button in `dm`: acknowledged at once, answered with an ephemeral text (returned). */
async function clickSlack(dm: string, who: Person, actionId: string): Promise<string> {
  const responseId = randomUUID();
  const payload = {
    type: 'block_actions',
    team: { id: SLACK_TEAM },
    user: { id: who.id, team_id: SLACK_TEAM },
    trigger_id: `${Date.now()}.${responseId}`,
    response_url: p.slack.responseUrl(responseId),
    channel: { id: dm },
    container: { type: 'message', message_ts: '1' },
    actions: [{ action_id: actionId, type: 'button', value: 'x', action_ts: `${Date.now() / 1000}` }],
  };
  const form = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  const started = Date.now();
  const ack = await postSigned(`${p.app.url}/slack/events`, SLACK_SECRET, form, {
    contentType: 'application/x-www-form-urlencoded',
  });
  expect(ack.status).toBe(200);
  expect(Date.now() - started).toBeLessThan(3_000);
  const r = await waitFor(() => p.slack.responses.find((x) => x.id === responseId), 'ephemeral answer');
  expect(r.body.response_type).toBe('ephemeral');
  return String(r.body.text);
}

describe('local channel: approve and reject by command', () => {
  it('approve runs the tool; a stranger cannot decide; messages sent meanwhile wait and run after', async () => {
    const lou = localPerson('lou');
    const id = await askLocal(lou);
    expect(await p.command(localPerson('eve'), 'approve', id, { dm: true })).toMatch(/Only the person who asked/);
    await p.dm(lou, 'and one more thing');
    await sleep(400);
    expect(await p.dmReplies(lou)).toHaveLength(1); // only the prompt: the message waits
    expect(await status(id)).toBe('pending');
    expect(await p.command(lou, 'approve', id, { dm: true })).toBe('Approved: running it now.');
    const all = await waitFor(async () => {
      const r = await p.dmReplies(lou);
      return r.length >= 3 && r;
    }, 'answer and the waiting message');
    expect(all[1]).toMatch(/^Tool forget said: /);
    expect(all[1]).not.toMatch(/rejected/);
    expect(all[2]).toBe('Echo: and one more thing');
    expect(await status(id)).toBe('approved');
    expect(await p.command(lou, 'reject', id, { dm: true })).toMatch(/already decided/);
    await sleep(200);
    expect(await p.dmReplies(lou)).toHaveLength(3);
    const audit = await p.sql<
      { result: string }[]
    >`select result from approval_audit where approval_id = ${id} order by at`;
    expect(audit.map((a) => a.result)).toEqual(['refused', 'accepted', 'decided']);
  });

  it("the resumed run's tokens count once, for the person who asked", async () => {
    const tom = localPerson('tom');
    const usage = async () =>
      (
        await p.sql<{ turns: number; input: number }[]>`
          select coalesce(sum(turns), 0)::int as turns, coalesce(sum(input_tokens), 0)::int as input
          from access_usage where user_key like ${`%:${tom.id}`}`
      )[0]!;
    const id = await askLocal(tom);
    const before = await usage();
    expect(before.turns).toBe(1); // the turn that stopped at the prompt
    expect(await p.command(tom, 'approve', id, { dm: true })).toBe('Approved: running it now.');
    await waitFor(async () => (await p.dmReplies(tom)).length >= 2, 'answer');
    const after = await waitFor(async () => {
      const u = await usage();
      return u.turns > before.turns && u;
    }, 'usage');
    await sleep(300);
    expect(await usage()).toEqual(after);
    expect(after.turns).toBe(2);
    expect(after.input).toBeGreaterThan(before.input);
  });

  it('reject: the tool does not run and the model is told so', async () => {
    const ann = localPerson('ann');
    const id = await askLocal(ann);
    expect(await p.command(ann, 'reject', id, { dm: true })).toBe('Rejected: it will not run.');
    const r = await waitFor(async () => {
      const x = await p.dmReplies(ann);
      return x.length >= 2 && x;
    }, 'answer');
    expect(r[1]).toMatch(/rejected this tool call/);
    expect(await status(id)).toBe('rejected');
  });

  it('expires with a clear message; a decision after expiry changes nothing', async () => {
    const bo = localPerson('bo');
    const id = await askLocal(bo);
    const r = await waitFor(
      async () => {
        const x = await p.dmReplies(bo);
        return x.length >= 2 && x;
      },
      'expiry message',
      TIMEOUT_MS + 10_000,
    );
    expect(r[1]).toMatch(/expired without a decision; nothing was done/);
    expect(await status(id)).toBe('expired');
    expect(await p.command(bo, 'approve', id, { dm: true })).toMatch(/already decided \(expired\)/);
    await sleep(300);
    expect(await p.dmReplies(bo)).toHaveLength(2);
  }, 30_000);
});

describe('Telegram: inline keyboard', () => {
  it('a stranger is refused on the button; Approve runs it and the answer replaces the prompt; a second click is a no-op', async () => {
    const tess = telegramPerson('Tess');
    await p.dm(tess, FORGET_ALL);
    const prompt = await waitFor(
      () => p.telegram.sentTo(Number(tess.id)).find((m) => m.text.includes('Approval needed')),
      'telegram prompt',
    );
    const [approve, reject] = prompt.reply_markup!.inline_keyboard[0]!;
    expect([approve!.text, reject!.text]).toEqual(['Approve', 'Reject']);
    const click = async (who: Person, data: string) => {
      const queryId = randomUUID();
      const from = { id: Number(who.id), first_name: who.name };
      const chat = { id: Number(tess.id), type: 'private' };
      const update = callbackUpdate(queryId, from, { message_id: prompt.message_id, chat }, data);
      const started = Date.now();
      expect(await postUpdate(p.app.url, update)).toBe(200);
      expect(Date.now() - started).toBeLessThan(3_000);
      const answer = await waitFor(
        () => p.telegram.callsOf('answerCallbackQuery').find((c) => c.params.callback_query_id === queryId),
        'callback answered',
      );
      return String(answer.params.text);
    };
    const id = /^ap:y:(.+)$/.exec(approve!.callback_data!)![1]!;
    expect(await click(telegramPerson('Mallory'), approve!.callback_data!)).toMatch(/Only the person who asked/);
    expect(await status(id)).toBe('pending');
    expect(await click(tess, approve!.callback_data!)).toBe('Approved: running it now.');
    await waitFor(() => (prompt.edits ?? 0) > 0, 'prompt replaced');
    expect(prompt.text).toMatch(/^Tool forget said: /);
    expect(prompt.reply_markup).toBeUndefined();
    expect(await click(tess, reject!.callback_data!)).toMatch(/already decided/);
    await sleep(200);
    expect(p.telegram.sentTo(Number(tess.id))).toHaveLength(1);
    expect(await status(id)).toBe('approved');
  });
});

describe('Telegram: a run that needs a second approval', () => {
  it("after the first Approve the prompt becomes the second call's, with its own buttons; then the answer: one message", async () => {
    const tom = telegramPerson('Tom');
    const chatId = Number(tom.id);
    await p.dm(tom, 'twice [[tool:forget {"memory":"all"}]] [[tool:forget {"memory":"ALL"}]]');
    const buttons = () =>
      p.telegram.sentTo(chatId).flatMap((m) => (m.reply_markup?.inline_keyboard[0] ?? []).map((b) => b.callback_data!));
    const first = await waitFor(() => buttons().find((d) => d.startsWith('ap:y:')), 'first prompt');
    const click = async (data: string) => {
      const queryId = randomUUID();
      const from = { id: chatId, first_name: tom.name };
      const msg = p.telegram
        .sentTo(chatId)
        .find((m) => m.reply_markup?.inline_keyboard[0]?.some((b) => b.callback_data === data));
      const update = callbackUpdate(
        queryId,
        from,
        { message_id: msg!.message_id, chat: { id: chatId, type: 'private' } },
        data,
      );
      expect(await postUpdate(p.app.url, update)).toBe(200);
      const answer = await waitFor(
        () => p.telegram.callsOf('answerCallbackQuery').find((c) => c.params.callback_query_id === queryId),
        'callback answered',
      );
      return String(answer.params.text);
    };
    expect(await click(first)).toBe('Approved: running it now.');
    const second = await waitFor(() => buttons().find((d) => d.startsWith('ap:y:') && d !== first), 'second prompt');
    expect(buttons()).not.toContain(first); // the decided buttons are gone
    expect(p.telegram.sentTo(chatId)).toHaveLength(1); // the prompt itself became the next one
    expect(await status(/^ap:y:(.+)$/.exec(first)![1]!)).toBe('approved');
    expect(await click(second)).toBe('Approved: running it now.');
    const answer = await waitFor(
      () => p.telegram.sentTo(chatId).find((m) => (m.text.match(/^Tool forget said: /gm) ?? []).length === 2),
      'the answer with both results',
    );
    expect(answer.reply_markup).toBeUndefined();
    await sleep(300);
    expect(buttons()).toEqual([]);
    expect(await status(/^ap:y:(.+)$/.exec(second)![1]!)).toBe('approved');
    // One message throughout: prompt, next prompt, answer; nothing half-written or doubled next to it.
    expect(p.telegram.sentTo(chatId)).toHaveLength(1);
  });
});

describe('Slack: Block Kit buttons through the Request URL', () => {
  it('a stranger is refused; Reject is acknowledged at once, the model is told no, and the prompt is updated', async () => {
    const sam = slackPerson('Sam');
    const dm = `D${sam.id.slice(1)}`;
    await p.dm(sam, FORGET_ALL);
    const post = await waitFor(
      () => p.slack.posted(dm).find((c) => String(c.body.text).includes('Approval needed')),
      'slack prompt',
    );
    const raw = post.body.blocks;
    const blocks = (typeof raw === 'string' ? JSON.parse(raw) : raw) as any[];
    const buttons = blocks.find((b) => b.type === 'actions').elements as {
      action_id: string;
      text: { text: string };
    }[];
    expect(buttons.map((b) => b.text.text)).toEqual(['Approve', 'Reject']);
    const id = /^ap:n:(.+)$/.exec(buttons[1]!.action_id)![1]!;
    const click = (who: Person, actionId: string) => clickSlack(dm, who, actionId);
    expect(await click(slackPerson('Mal'), buttons[0]!.action_id)).toMatch(/Only the person who asked/);
    expect(await click(sam, buttons[1]!.action_id)).toBe('Rejected: it will not run.');
    const update = await waitFor(() => p.slack.callsOf('chat.update', dm)[0], 'prompt updated');
    expect(String(update.body.text)).toMatch(/rejected this tool call/);
    const after = update.body.blocks;
    expect(typeof after === 'string' ? JSON.parse(after) : after).toEqual([]);
    expect(await click(sam, buttons[0]!.action_id)).toMatch(/already decided/);
    expect(await status(id)).toBe('rejected');
    expect(p.slack.posted(dm)).toHaveLength(1);
  });
});

describe('Slack: a run that needs a second approval', () => {
  it("the prompt is updated into the second call's with new buttons, then into the answer with none: one message", async () => {
    const sue = slackPerson('Sue');
    const dm = `D${sue.id.slice(1)}`;
    await p.dm(sue, 'twice [[tool:forget {"memory":"all"}]] [[tool:forget {"memory":"ALL"}]]');
    const blocksOf = (raw: unknown) => (typeof raw === 'string' ? JSON.parse(raw) : (raw ?? [])) as any[];
    const approveOf = (raw: unknown) =>
      blocksOf(raw).find((b) => b.type === 'actions')?.elements?.[0]?.action_id as string | undefined;
    const post = await waitFor(
      () => p.slack.posted(dm).find((c) => String(c.body.text).includes('Approval needed')),
      'slack prompt',
    );
    const click = (actionId: string) => clickSlack(dm, sue, actionId);
    const first = approveOf(post.body.blocks)!;
    expect(await click(first)).toBe('Approved: running it now.');
    const next = await waitFor(
      () => p.slack.callsOf('chat.update', dm).find((c) => approveOf(c.body.blocks)),
      'the prompt updated into the next one',
    );
    const second = approveOf(next.body.blocks)!;
    expect(second).not.toBe(first);
    expect(String(next.body.text)).toContain('Approval needed');
    expect(await click(second)).toBe('Approved: running it now.');
    const answer = await waitFor(
      () =>
        p.slack
          .callsOf('chat.update', dm)
          .find((c) => (String(c.body.text).match(/^Tool forget said: /gm) ?? []).length === 2),
      'the answer',
    );
    expect(blocksOf(answer.body.blocks)).toEqual([]);
    expect(p.slack.posted(dm)).toHaveLength(1);
  });
});

describe('Discord: message components', () => {
  it('a stranger is refused; Approve runs it and the prompt is edited with its buttons removed', async () => {
    const dee = discordPerson('Dee');
    await p.dm(dee, FORGET_ALL);
    const msg = await waitFor(
      () => p.discord.rest.messages.find((m) => m.body?.components && String(m.message.content).includes('Approval')),
      'discord prompt',
    );
    const buttons = msg.body.components[0].components as { label: string; custom_id: string }[];
    expect(buttons.map((b) => b.label)).toEqual(['Approve', 'Reject']);
    const id = /^ap:y:(.+)$/.exec(buttons[0]!.custom_id)![1]!;
    const click = async (who: Person, customId: string) => {
      const user = { id: who.id, username: who.name.toLowerCase(), global_name: who.name };
      const base = commandInteraction('x');
      const body = {
        ...base,
        type: 3,
        channel_id: msg.channelId,
        guild_id: undefined,
        member: undefined,
        user,
        data: { custom_id: customId, component_type: 2 },
      };
      const res = await postInteraction(p.app.url, p.signer, body);
      expect(res.status).toBe(200);
      expect(res.ms).toBeLessThan(3_000);
      expect(res.json.data?.flags).toBe(64); // ephemeral: only the clicker sees the answer
      const hook = new RegExp(`^/webhooks/\\d+/${base.token}/messages/@original`);
      const answer = await waitFor(
        () => p.discord.rest.requests.find((r) => hook.test(r.path) && r.method === 'PATCH'),
        'discord answer',
      );
      return String(answer.body.content);
    };
    expect(await click(discordPerson('Max'), buttons[0]!.custom_id)).toMatch(/Only the person who asked/);
    expect(await click(dee, buttons[0]!.custom_id)).toBe('Approved: running it now.');
    await waitFor(() => (msg.edits?.length ?? 0) > 0, 'prompt edited');
    expect(String(msg.message.content)).toMatch(/^Tool forget said: /);
    const edit = p.discord.rest.requests.find(
      (r) => r.method === 'PATCH' && r.path.endsWith(`/messages/${msg.message.id}`),
    );
    expect(edit?.body.components).toEqual([]);
    expect(await click(dee, buttons[1]!.custom_id)).toMatch(/already decided/);
    expect(await status(id)).toBe('approved');
  });
});

describe('Discord: a run that needs a second approval', () => {
  it("the prompt becomes the second call's with new buttons, then the answer with none: one message", async () => {
    const dora = discordPerson('Dora');
    await p.dm(dora, 'twice [[tool:forget {"memory":"all"}]] [[tool:forget {"memory":"ALL"}]]');
    const msg = await waitFor(
      () => p.discord.rest.messages.find((m) => m.body?.components && String(m.message.content).includes('Approval')),
      'discord prompt',
    );
    const edits = () =>
      p.discord.rest.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith(`/messages/${msg.message.id}`));
    const approveOf = (components: any[] | undefined) =>
      (components?.[0]?.components as { custom_id: string }[] | undefined)?.[0]?.custom_id;
    const click = async (customId: string) => {
      const user = { id: dora.id, username: 'dora', global_name: dora.name };
      const base = commandInteraction('x');
      const data = { custom_id: customId, component_type: 2 };
      const body = { ...base, type: 3, channel_id: msg.channelId, guild_id: undefined, member: undefined, user, data };
      expect((await postInteraction(p.app.url, p.signer, body)).status).toBe(200);
    };
    const first = approveOf(msg.body.components)!;
    await click(first);
    const second = await waitFor(
      () =>
        edits()
          .map((e) => approveOf(e.body.components))
          .find(Boolean),
      'next prompt',
    );
    expect(second).not.toBe(first);
    expect(String(msg.message.content)).toContain('Approval needed');
    await click(second!);
    await waitFor(() => (String(msg.message.content).match(/^Tool forget said: /gm) ?? []).length === 2, 'answer');
    expect(edits().at(-1)?.body.components).toEqual([]);
    expect(await status(/^ap:y:(.+)$/.exec(second!)![1]!)).toBe('approved');
    expect(p.discord.rest.messages.filter((m) => m.channelId === msg.channelId)).toHaveLength(1);
  });
});
