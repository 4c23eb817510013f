/**
 * One real app with every channel on (Slack, Discord, Telegram webhook, local) against the existing loopback
 * fakes, and per-platform helpers that do what a user does there: run a command the platform's native way and read
 * the answer the way that user would see it, or write a DM and read the bot's replies. Everything goes through the
 * real ingress, command registry, worker and delivery; only the platforms are fakes.
 */
import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import {
  FakeDiscord,
  IDS,
  createSigner,
  messageCreate,
  person,
  snowflake,
  type TestSigner,
} from '../fakes/discord/index.js';
import { FakeSlack } from '../fakes/slack/fake-slack.js';
import { dmMessage, envelope, fixtureText, nextSlackTs, postSigned } from '../fakes/slack/requests.js';
import { startFakeBotApi, type FakeBotApi } from '../fakes/telegram/fake-bot-api.js';
import { commandInteraction, discordEnv, postInteraction } from '../adapters/discord/pipeline-helpers.js';
import {
  BOT,
  TOKEN,
  newUpdateId,
  postUpdate,
  privateUpdate,
  telegramEnv,
  groupUpdate,
} from '../adapters/telegram/e2e-helpers.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { sleep, waitFor } from '../helpers/wait.js';

export { sleep, waitFor };

export { BOT as TELEGRAM_BOT } from '../adapters/telegram/e2e-helpers.js';

export const SLACK_SECRET = 'access-signing-secret-0123';
export const SLACK_TEAM = 'T123ABC456';
const SLACK_BOT = 'UBOTACCESS';

export type PlatformName = 'slack' | 'discord' | 'telegram' | 'local';

/** Someone on a platform: the id the platform uses, and how another user's command names them. */
export interface Person {
  platform: PlatformName;
  id: string;
  /** The platform's mention form for arguments. */
  mention: string;
  name: string;
}

let tgNext = 0;
const tgBase = 610_000_000 + (Date.now() % 100_000) * 100;

export function slackPerson(name = 'Sam'): Person {
  const id = `U${randomUUID().replace(/-/g, '').slice(0, 10).toUpperCase()}`;
  return { platform: 'slack', id, mention: `<@${id}|${name.toLowerCase()}>`, name };
}
export function discordPerson(name = 'Dee'): Person {
  const id = snowflake();
  return { platform: 'discord', id, mention: `<@!${id}>`, name };
}
export function telegramPerson(name = 'Tess'): Person {
  const id = String(tgBase + tgNext++);
  return { platform: 'telegram', id, mention: id, name };
}
export function localPerson(name = 'lou'): Person {
  const id = `${name}-${randomUUID().slice(0, 8)}`;
  return { platform: 'local', id, mention: id, name };
}
export function personOn(platform: PlatformName, name: string): Person {
  return { slack: slackPerson, discord: discordPerson, telegram: telegramPerson, local: localPerson }[platform](name);
}

export interface Platforms {
  app: TestApp;
  slack: FakeSlack;
  discord: FakeDiscord;
  signer: TestSigner;
  telegram: FakeBotApi;
  sql: postgres.Sql;
  /** Run `/name args` as `who`, the platform's native way (in a DM with `dm`); resolves with the answer they see. */
  command(who: Person, name: string, args?: string, o?: { dm?: boolean }): Promise<string>;
  /** `who` writes a DM to the bot. */
  dm(who: Person, text: string): Promise<void>;
  /** What the bot has sent into `who`'s DM so far (texts, in order). */
  dmReplies(who: Person): Promise<string[]>;
  close(): Promise<void>;
}

export async function startPlatforms(env: Record<string, string> = {}): Promise<Platforms> {
  const slack = await new FakeSlack({ botUserId: SLACK_BOT }).start();
  const discord = await new FakeDiscord().start();
  const signer = createSigner();
  const telegram = await startFakeBotApi(TOKEN, BOT);
  const app = await startTestApp({
    env: {
      SLACK_BOT_TOKEN: 'xoxb-access-test',
      SLACK_SIGNING_SECRET: SLACK_SECRET,
      SLACK_API_URL: slack.apiUrl,
      SLACK_BOT_USER_ID: SLACK_BOT,
      ...discordEnv(discord, signer),
      ...telegramEnv(telegram, 'webhook'),
      ...env,
    },
  });
  const sql = postgres(app.db.url, { max: 2, onnotice: () => undefined });
  await waitFor(
    () => app.adapters.get('discord')?.health().state === 'up' && app.adapters.get('telegram')?.health().state === 'up',
    'discord and telegram up',
  );

  const slackDm = (who: Person) => `D${who.id.slice(1)}`;
  const discordDm = new Map<string, string>();
  const discordDmOf = (who: Person) => {
    if (!discordDm.has(who.id)) discordDm.set(who.id, snowflake());
    return discordDm.get(who.id)!;
  };
  const tgGroup = -(1_000_000_000_000 + (Date.now() % 1_000_000));

  async function slackCommand(who: Person, text: string, dm: boolean): Promise<string> {
    const form = new URLSearchParams(fixtureText('slash_command.txt'));
    const responseId = randomUUID();
    form.set('command', '/agent');
    form.set('text', text);
    form.set('team_id', SLACK_TEAM);
    form.set('user_id', who.id);
    form.set('user_name', who.name);
    form.set('channel_id', dm ? slackDm(who) : 'C0ACCESS01');
    form.set('response_url', slack.responseUrl(responseId));
    form.set('trigger_id', `${Date.now()}.${responseId}`);
    const ack = await postSigned(`${app.url}/slack/commands`, SLACK_SECRET, form.toString(), {
      contentType: 'application/x-www-form-urlencoded',
    });
    if (ack.status !== 200 || ack.body !== '') throw new Error(`slack ack ${ack.status} ${ack.body}`);
    const _answers = await waitFor(() => {
      const r = slack.responses.filter((x) => x.id === responseId);
      return r.length > 0 && r;
    }, `slack answer to /agent ${text}`);
    await sleep(50); // a long answer comes in several posts
    return slack.responses
      .filter((x) => x.id === responseId)
      .map((r) => String(r.body.text))
      .join('\n');
  }

  async function discordCommand(who: Person, name: string, args: string, dm: boolean): Promise<string> {
    const user = { id: who.id, username: who.name.toLowerCase(), global_name: who.name };
    const options = args ? [{ type: 3, name: 'args', value: args }] : [];
    const body = commandInteraction(name, {
      channel_id: dm ? discordDmOf(who) : IDS.channel,
      ...(dm ? { guild_id: undefined, member: undefined, user } : { member: { user, roles: [], nick: null } }),
      data: { type: 1, name, id: '771825006014889984', options },
    });
    const res = await postInteraction(app.url, signer, body);
    if (res.status !== 200) throw new Error(`discord interaction ${res.status}`);
    const hook = new RegExp(`^/webhooks/${IDS.app}/${body.token}`);
    const calls = await waitFor(() => {
      const c = discord.rest.requests.filter((r) => hook.test(r.path) && r.method !== 'DELETE');
      return c.length > 0 && c;
    }, `discord answer to /${name}`);
    await sleep(50);
    return (
      discord.rest.requests
        .filter((r) => hook.test(r.path) && r.method !== 'DELETE')
        .map((r) => String(r.body.content))
        .join('\n') || String(calls[0]!.body.content)
    );
  }

  async function telegramCommand(who: Person, name: string, args: string, dm: boolean): Promise<string> {
    const head = dm ? `/${name}` : `/${name}@${BOT.username}`;
    const text = args ? `${head} ${args}` : head;
    const from = { id: Number(who.id), first_name: who.name };
    const chatId = dm ? Number(who.id) : tgGroup;
    const update = dm ? privateUpdate(from, text) : groupUpdate({ id: tgGroup }, from, text);
    update.message.entities = [{ type: 'bot_command', offset: 0, length: head.length }];
    const before = telegram.sentTo(chatId).length;
    const status = await postUpdate(app.url, update);
    if (status !== 200) throw new Error(`telegram webhook ${status}`);
    await waitFor(() => telegram.sentTo(chatId).length > before, `telegram answer to ${head}`);
    await sleep(50);
    return telegram
      .sentTo(chatId)
      .slice(before)
      .map((m) => m.text)
      .join('\n');
  }

  async function localCommand(who: Person, name: string, args: string, dm: boolean): Promise<string> {
    const res = await app.post('/local/messages', {
      conversation: dm ? `dm-${who.id}` : 'access-room',
      user: who.id,
      name: who.name,
      kind: dm ? 'dm' : 'group',
      text: `/${name}${args ? ` ${args}` : ''}`,
    });
    if (res.status !== 200) throw new Error(`local command ${res.status} ${JSON.stringify(res.body)}`);
    return (res.body.replies as { text: string }[]).map((r) => r.text).join('\n');
  }

  const localStream = async (who: Person) =>
    (
      (await (await fetch(`${app.url}/local/conversations/dm-${who.id}/messages`)).json()) as {
        replies: { text: string }[];
      }
    ).replies.map((r) => r.text);

  return {
    app,
    slack,
    discord,
    signer,
    telegram,
    sql,
    command(who, name, args = '', o = {}) {
      const dm = o.dm ?? false;
      switch (who.platform) {
        case 'slack':
          return slackCommand(who, `${name}${args ? ` ${args}` : ''}`, dm);
        case 'discord':
          return discordCommand(who, name, args, dm);
        case 'telegram':
          return telegramCommand(who, name, args, dm);
        case 'local':
          return localCommand(who, name, args, dm);
      }
    },
    async dm(who, text) {
      switch (who.platform) {
        case 'slack': {
          const res = await postSigned(
            `${app.url}/slack/events`,
            SLACK_SECRET,
            envelope(dmMessage({ channel: slackDm(who), user: who.id, ts: nextSlackTs(), text })),
          );
          if (res.status !== 200) throw new Error(`slack event ${res.status}`);
          return;
        }
        case 'discord':
          discord.gateway.dispatch(
            'MESSAGE_CREATE',
            messageCreate({
              guildId: null,
              channelId: discordDmOf(who),
              author: person(who.name.toLowerCase(), who.id),
              content: text,
            }),
          );
          return;
        case 'telegram': {
          const status = await postUpdate(
            app.url,
            privateUpdate({ id: Number(who.id), first_name: who.name }, text, newUpdateId()),
          );
          if (status !== 200) throw new Error(`telegram webhook ${status}`);
          return;
        }
        case 'local': {
          const res = await app.post('/local/messages', {
            conversation: `dm-${who.id}`,
            user: who.id,
            name: who.name,
            kind: 'dm',
            text,
          });
          if (res.status !== 202) throw new Error(`local message ${res.status}`);
        }
      }
    },
    async dmReplies(who) {
      switch (who.platform) {
        case 'slack':
          return slack.posted(slackDm(who)).map((c) => String(c.body.text));
        case 'discord':
          return discord.rest.contents(discordDmOf(who));
        case 'telegram':
          return telegram.sentTo(Number(who.id)).map((m) => m.text);
        case 'local':
          return localStream(who);
      }
    },
    async close() {
      await sql.end();
      await app.close();
      await discord.stop();
      await slack.close();
      await telegram.close();
    },
  };
}

/** The audit rows for `who`'s invocations of `command`. */
export async function auditOf(sql: postgres.Sql, who: Person, command?: string) {
  const actor = `${who.platform}:${who.id}`;
  return command
    ? sql<
        {
          command: string;
          args: string;
          result: string;
          required: string;
          role: string;
          detail: string;
          platform: string;
        }[]
      >`
        select command, args, result, required, role, detail, platform from access_audit where actor = ${actor} and command = ${command} order by at`
    : sql<
        {
          command: string;
          args: string;
          result: string;
          required: string;
          role: string;
          detail: string;
          platform: string;
        }[]
      >`
        select command, args, result, required, role, detail, platform from access_audit where actor = ${actor} order by at`;
}
