/**
 * A message whose answer was shown while it was written, and which then can never commit (a raw NUL, as in
 * test/worker/deadletter.test.ts: Postgres refuses it), is set aside after DEADLETTER_AFTER_ATTEMPTS. The user's
 * preview of that answer must not stay behind as if still being written next to the notice: the notice takes its
 * place (the Slack stream is stopped and becomes the notice, the Telegram group placeholder is edited into it).
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { conversationKey, type ConversationRef, type InboundEvent } from '../../src/core/types.js';
import { Inbox } from '../../src/queue/inbox.js';
import { keys as makeKeys } from '../../src/queue/keys.js';
import { Queues } from '../../src/queue/queues.js';
import { DEAD_LETTER_NOTICE } from '../../src/worker/deadletter.js';
import { FakeSlack } from '../fakes/slack/fake-slack.js';
import { BOT as SLACK_BOT, HUMAN, TEAM, nextSlackTs } from '../fakes/slack/requests.js';
import { startFakeBotApi, type FakeBotApi } from '../fakes/telegram/fake-bot-api.js';
import {
  BOT as TELEGRAM_BOT,
  newGroupId,
  startTelegramApp,
  type TelegramApp,
} from '../adapters/telegram/e2e-helpers.js';
import { REDIS_URL } from '../helpers/services.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { GROUP_SEND_INTERVAL_MS } from '../../adapters/telegram/limits.js';

let slack: FakeSlack;
let telegram: FakeBotApi;
let t: TelegramApp;
let redis: Redis;
let queues: Queues;

beforeAll(async () => {
  slack = await new FakeSlack({ botUserId: SLACK_BOT }).start();
  telegram = await startFakeBotApi();
  t = await startTelegramApp(telegram, {
    mode: 'webhook',
    env: {
      DEADLETTER_AFTER_ATTEMPTS: '2',
      RATE_LIMIT_PER_MINUTE: '0',
      SLACK_BOT_TOKEN: 'xoxb-dead-letter-preview',
      SLACK_SIGNING_SECRET: 'dead-letter-preview-secret',
      SLACK_API_URL: slack.apiUrl,
      SLACK_BOT_USER_ID: SLACK_BOT,
    },
  });
  redis = new Redis(REDIS_URL);
  queues = new Queues(redis, makeKeys(t.app.config.KEY_PREFIX));
});
afterAll(async () => {
  await queues?.close();
  redis?.disconnect();
  await t?.app.close();
  await slack?.close();
  await telegram?.close();
});

/** Straight into the inbox, as from before the ingress rule that strips NULs: its commit fails for good. */
async function poison(id: string, conversation: ConversationRef, platformMessageId: string): Promise<void> {
  const at = new Date().toISOString();
  const words = Array.from({ length: 30 }, (_, i) => `w${i}`).join(' ');
  const event: InboundEvent = {
    id,
    platform: conversation.platform,
    tenant: conversation.tenant,
    conversation,
    sender: { id: conversation.user ?? '4747', isBot: false },
    text: `[[drip:40]] poison\u0000pill ${words}`,
    attachments: [],
    mentionsBot: true,
    platformMessageId,
    kind: 'message',
    sentAt: at,
    receivedAt: at,
  };
  const key = conversationKey(conversation);
  await new Inbox(redis, makeKeys(t.app.config.KEY_PREFIX), 3600).append(key, event);
  await queues.scheduleTurn(key);
}

it('a message set aside after its answer was previewed: the preview becomes the notice, nothing left half-written', async () => {
  const channel = 'D0DEADPREV';
  const ts = nextSlackTs();
  await poison(
    `slack:${TEAM}:${channel}:${ts}`,
    { platform: 'slack', tenant: TEAM, channel, kind: 'dm', user: HUMAN },
    ts,
  );
  const chatId = newGroupId();
  await poison(
    `telegram:${TELEGRAM_BOT.id}:dead-${Date.now()}`,
    { platform: 'telegram', tenant: String(TELEGRAM_BOT.id), channel: String(chatId), kind: 'group' },
    '4242',
  );

  // The answer was shown while it was written...
  await waitFor(() => slack.callsOf('chat.startStream', channel).some((c) => c.ok), 'the Slack stream');
  await waitFor(() => telegram.sentTo(chatId).length > 0, 'the Telegram placeholder');
  // ...then the turn failed for good, and the notice came.
  const notice = /set aside for an administrator/;
  await waitFor(() => slack.messages.in(channel).some((m) => notice.test(m.text)), 'the Slack notice', 60_000);
  await waitFor(() => telegram.sentTo(chatId).some((m) => notice.test(m.text)), 'the Telegram notice', 60_000);
  await sleep(GROUP_SEND_INTERVAL_MS + 1_000); // a second message would show up now

  const onSlack = slack.messages.in(channel);
  expect(onSlack.map((m) => m.text)).toEqual([expect.stringMatching(notice)]);
  expect(onSlack[0]!.streamed).toBe(true); // the stream itself became the notice...
  expect(onSlack[0]!.streaming).toBe(false); // ...and is not left open
  expect(slack.posted(channel)).toHaveLength(0);

  const onTelegram = telegram.sentTo(chatId);
  expect(onTelegram.map((m) => m.text)).toEqual([expect.stringMatching(notice)]);
  expect(onTelegram[0]!.versions[0]).toMatch(/ …$/); // it was the placeholder
  expect(DEAD_LETTER_NOTICE).toMatch(notice);
}, 120_000);
