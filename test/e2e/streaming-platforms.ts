/**
 * The platforms whose answers stream as previews, as the kill-mid-stream chaos test drives them: each driver
 * brings the env the gateway and worker processes need (its loopback fake, if any), sends a message into a
 * conversation, and reads back what a user there sees: the preview updates, the final answers, and any preview
 * left behind unmarked. A platform that gains previews gets a driver here and one line in the test.
 */
import { FakeDiscord, createSigner, IDS, messageCreate, person, snowflake } from '../fakes/discord/index.js';
import { FakeSlack } from '../fakes/slack/fake-slack.js';
import { BOT as SLACK_BOT, dmMessage, envelope, nextSlackTs, postSigned } from '../fakes/slack/requests.js';
import { startFakeBotApi } from '../fakes/telegram/fake-bot-api.js';
import {
  mentionUpdate,
  newGroupId,
  newUser,
  postUpdate,
  privateUpdate,
  telegramEnv,
} from '../adapters/telegram/e2e-helpers.js';
import { openSse, type SseClient } from '../live/sse-client.js';

export interface StreamingConversation {
  label: string;
  send(text: string): Promise<void>;
  /** When the user saw the answer being written (preview posts / edits / streamed deltas). */
  updates(): number[];
  /** The answers the user is left with (previews that became answers included). */
  finals(): Promise<string[]>;
  /** A final answer is there (not only a preview). */
  answered(): Promise<boolean>;
  /** Previews of killed attempts still showing as if they were being written. */
  unmarkedOrphans(): string[];
  /**
   * Updates to wait for before a kill, where the platform leaves a window no retry can close: a Telegram group's
   * preview is a sendMessage with no idempotency key and no way to read the chat back, so a worker killed between
   * Telegram's answer and the record of its message id leaves that first preview as it was. Its first edit comes
   * only after the record. Default 1.
   */
  killableAfter?: number;
  close(): void;
}

export interface StreamingPlatform {
  name: string;
  env: Record<string, string>;
  /** Resolves once the running gateway receives this platform's messages. */
  ready(gatewayUrl: string): Promise<void>;
  /** How many conversations the test opens here, when not its default (kinds that alternate by index). */
  conversations?: number;
  open(gatewayUrl: string, index: number): Promise<StreamingConversation>;
  close(): Promise<void>;
}

const CURSOR = ' …'; // what a preview ends with while the answer is being written (src/live/preview.ts)

const until = async (what: string, ok: () => boolean | Promise<boolean>, ms = 30_000) => {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

/** The local channel: deltas over its SSE stream, the reply on /messages. */
export async function localStreaming(): Promise<StreamingPlatform> {
  return {
    name: 'local',
    env: {},
    ready: async () => undefined,
    async open(url, index) {
      const conversation = `stream-chaos-${index}-${Math.random().toString(36).slice(2, 8)}`;
      const sse: SseClient = await openSse(`${url}/local/conversations/${conversation}/stream`);
      await sse.next((e) => e.event === 'ready');
      const replies = async () => {
        const res = await fetch(`${url}/local/conversations/${conversation}/messages?after=0`);
        return ((await res.json()) as { replies: { text: string }[] }).replies.map((r) => r.text);
      };
      return {
        label: `local ${conversation}`,
        async send(text) {
          const res = await fetch(`${url}/local/messages`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ conversation, user: 'u1', text }),
          });
          if (res.status !== 202) throw new Error(`local send: ${res.status}`);
        },
        updates: () => sse.events.filter((e) => e.event === 'delta').map((e) => e.at),
        finals: replies,
        answered: async () => (await replies()).length > 0,
        unmarkedOrphans() {
          // An attempt's streamed text is marked when it ended, or when a later `reset` voided it.
          const ev = sse.events;
          const attempts = new Set(ev.filter((e) => e.event === 'delta').map((e) => e.data.turnId as string));
          return [...attempts].filter((turnId) => {
            const last = ev.findLastIndex((e) => e.event === 'delta' && e.data.turnId === turnId);
            const ended = ev.some((e) => e.event === 'end' && e.data.turnId === turnId);
            return !ended && !ev.slice(last + 1).some((e) => e.event === 'reset');
          });
        },
        close: () => sse.close(),
      };
    },
    close: async () => undefined,
  };
}

/** Discord through its loopback fake: one DM per conversation, its preview one message edited in place. */
export async function discordStreaming(): Promise<StreamingPlatform> {
  const fake = await new FakeDiscord().start();
  fake.echoOwnMessages = true; // as Discord does: the gateway must ignore the bot's own messages
  const signer = createSigner();
  const visible = (channelId: string) => fake.rest.contents(channelId);
  return {
    name: 'discord',
    env: {
      DISCORD_TOKEN: fake.token,
      DISCORD_APPLICATION_ID: IDS.app,
      DISCORD_PUBLIC_KEY: signer.publicKeyHex,
      DISCORD_API_URL: fake.apiUrl,
    },
    ready: () => until('the gateway on the Discord websocket', () => fake.gateway.liveSessions().length > 0),
    async open(_url, index) {
      const channelId = snowflake();
      const author = person(`chaos${index}`);
      const at = (method: string) =>
        fake.rest.calls(method, new RegExp(`^/channels/${channelId}/messages(/\\d+)?$`)).map((c) => c.at);
      return {
        label: `discord ${channelId}`,
        async send(text) {
          fake.gateway.dispatch('MESSAGE_CREATE', messageCreate({ guildId: null, channelId, author, content: text }));
        },
        updates: () => [...at('POST'), ...at('PATCH')].sort((a, b) => a - b),
        finals: async () => visible(channelId),
        answered: async () => visible(channelId).some((t) => !t.endsWith(CURSOR)),
        unmarkedOrphans: () => visible(channelId).filter((t) => t.endsWith(CURSOR)),
        close: () => undefined,
      };
    },
    close: () => fake.stop(),
  };
}

/**
 * Slack through its loopback fake: one DM per conversation (each its own user, so turns run side by side), the
 * answer streamed into the thread of the message (chat.startStream / appendStream). A stream still open, or a
 * message still showing the preview's cursor, is a preview nobody finished.
 */
export async function slackStreaming(): Promise<StreamingPlatform> {
  const fake = await new FakeSlack({ botUserId: SLACK_BOT }).start();
  const secret = 'stream-chaos-signing-secret';
  const run = Math.random().toString(36).slice(2, 6).toUpperCase();
  const UPDATES = ['chat.startStream', 'chat.appendStream', 'chat.stopStream', 'chat.update', 'chat.postMessage'];
  return {
    name: 'slack',
    env: {
      SLACK_BOT_TOKEN: 'xoxb-stream-chaos',
      SLACK_SIGNING_SECRET: secret,
      SLACK_API_URL: fake.apiUrl,
      SLACK_BOT_USER_ID: SLACK_BOT,
    },
    ready: async () => undefined,
    async open(url, index) {
      const channel = `D0CH${run}${index}`;
      const user = `U0CH${run}${index}`;
      const shown = () => fake.messages.in(channel);
      return {
        label: `slack ${channel}`,
        async send(text) {
          const event = dmMessage({ channel, user, ts: nextSlackTs(), text });
          const res = await postSigned(`${url}/slack/events`, secret, envelope(event));
          if (res.status !== 200) throw new Error(`slack send: ${res.status}`);
        },
        updates: () =>
          UPDATES.flatMap((m) =>
            fake
              .callsOf(m, channel)
              .filter((c) => c.ok)
              .map((c) => c.at),
          ).sort((a, b) => a - b),
        finals: async () => shown().map((m) => m.text),
        answered: async () => shown().some((m) => !m.streaming && !m.text.endsWith(CURSOR)),
        unmarkedOrphans: () =>
          shown()
            .filter((m) => m.streaming || m.text.endsWith(CURSOR))
            .map((m) => `${m.streaming ? 'still streaming' : 'preview'}: ${m.text}`),
        close: () => undefined,
      };
    },
    close: () => fake.close(),
  };
}

/**
 * Telegram through its loopback fake Bot API, alternating private chats (a draft: sendMessageDraft, gone once the
 * reply is sent) and groups (a placeholder message edited in place, which the reply must take over).
 */
export async function telegramStreaming(): Promise<StreamingPlatform> {
  const fake = await startFakeBotApi();
  return {
    name: 'telegram',
    env: telegramEnv(fake, 'webhook'),
    conversations: 4,
    ready: async () => undefined,
    async open(url, index) {
      const privateChat = index % 2 === 0;
      const person = newUser(`Chaos${index}`);
      const chatId = privateChat ? person.id : newGroupId();
      const update = (text: string) =>
        privateChat ? privateUpdate(person, text) : mentionUpdate({ id: chatId }, person, text);
      const calls = (...methods: string[]) => methods.flatMap((m) => fake.callsTo(m, chatId).map((c) => c.at));
      const sent = () => fake.sentTo(chatId).map((m) => m.text);
      return {
        label: `telegram ${privateChat ? 'private' : 'group'} ${chatId}`,
        async send(text) {
          const status = await postUpdate(url, update(text));
          if (status !== 200) throw new Error(`telegram send: ${status}`);
        },
        updates: () => calls('sendMessageDraft', 'sendMessage', 'editMessageText').sort((a, b) => a - b),
        finals: async () => sent(),
        answered: async () => sent().some((t) => !t.endsWith(CURSOR)),
        killableAfter: privateChat ? 1 : 2,
        unmarkedOrphans: () => [
          ...sent().filter((t) => t.endsWith(CURSOR)),
          // A draft still on screen after the reply: as if the answer were still being written.
          ...(privateChat ? fake.draftsIn(chatId).map((d) => `draft: ${d.versions.at(-1)}`) : []),
        ],
        close: () => undefined,
      };
    },
    close: () => fake.close(),
  };
}
