/** Telegram runs the fast tier of the adapter contract: recorded updates through its ingress, render, error mapping. */
import { createTelegramAdapter } from '../../../adapters/telegram/index.js';
import { dispatchUpdate } from '../../../adapters/telegram/ingress.js';
import { fastContract } from '../../contract/fast-contract.js';
import { startFakeBotApi } from '../../fakes/telegram/fake-bot-api.js';
import { BOT, TOKEN, silent } from './helpers.js';

let chats = 2_000_000;

fastContract('telegram', async () => {
  const fake = await startFakeBotApi(TOKEN, BOT);
  const adapter = createTelegramAdapter({
    token: TOKEN,
    apiRoot: fake.url,
    mode: 'webhook',
    webhookSecret: 'fast_contract',
    log: silent,
  });
  const deps = {
    api: adapter.api,
    options: { edits: 'ignore', allowBots: false, groupCommandsWithoutMention: false } as const,
    render: adapter.render,
    send: adapter.send,
  };
  return {
    adapter,
    fixtures: {
      dir: 'telegram',
      expect: {
        'update_callback_query.json': { kind: 'event', conversation: 'dm', text: 'Data from button callback' },
        'update_edited_message.json': { kind: 'none' },
        'update_message_command.json': { kind: 'command', name: 'start' },
        'update_message_group_mention.json': {
          kind: 'event',
          conversation: 'group',
          text: 'what is on the agenda today?',
          mentionsBot: true,
        },
        'update_message_photo.json': { kind: 'event', conversation: 'dm', text: 'what is in this picture?' },
        'update_message_voice.json': { kind: 'event', conversation: 'dm', text: '' },
      },
    },
    parse: async (_file, raw, sink) => {
      const from = sink.mark();
      await dispatchUpdate(deps, JSON.parse(raw.toString('utf8')), BOT, sink, silent);
      return sink.outcome(from);
    },
    refuseNextSend: async (how, retryAfterSeconds) => {
      const chat = String(chats++);
      if (how === 'rate_limited') {
        const description = `Too Many Requests: retry after ${retryAfterSeconds}`;
        const parameters = { retry_after: retryAfterSeconds };
        fake.failNext('sendMessage', { error_code: 429, description, parameters }, chat);
      } else if (how === 'blocked') fake.block(chat);
      else fake.failNext('sendMessage', { error_code: 400, description: 'Bad Request: chat not found' }, chat);
      return { platform: 'telegram', tenant: String(BOT.id), channel: chat, kind: 'dm', user: chat };
    },
    close: () => fake.close(),
  };
});
