/**
 * The Telegram adapter passes the shared adapter contract on the REAL pipeline (gateway + worker in-process, fresh
 * database and Redis prefix), in webhook mode: the app is configured from TELEGRAM_* env like production, updates
 * are POSTed to /telegram/webhook with the secret header Telegram echoes, and replies go out through grammY to the
 * loopback fake Bot API, which parses MarkdownV2 strictly.
 *
 * Each harness conversation is its own private chat (in Telegram a private chat's id is the user's id). A harness
 * id names one Telegram update: delivering it again posts the same update_id, which is what a Telegram webhook
 * retry is. `sent` is what the user reads: the texts of the messages the bot sent to that chat, after the fake's
 * entity parsing (markup and escapes removed).
 */
import { adapterContract, type ContractHarness, type ContractMessage } from '../../contract/adapter-contract.js';
import { startFakeBotApi } from '../../fakes/telegram/fake-bot-api.js';
import { BOT, newUser, postUpdate, privateUpdate, startTelegramApp, TOKEN } from './e2e-helpers.js';

adapterContract('telegram (webhook, private chats)', async (): Promise<ContractHarness> => {
  const fake = await startFakeBotApi(TOKEN, BOT);
  const { app, adapter } = await startTelegramApp(fake, { mode: 'webhook' });

  const users = new Map<string, ReturnType<typeof newUser>>();
  const userOf = (conversation: string) => {
    let u = users.get(conversation);
    if (!u) users.set(conversation, (u = newUser('Contract', conversation)));
    return u;
  };
  /** Harness id -> the update Telegram sent for it (redelivered as is). */
  const updates = new Map<string, Record<string, unknown>>();
  const updateFor = (m: ContractMessage) => {
    let u = updates.get(m.id);
    if (!u) updates.set(m.id, (u = privateUpdate(userOf(m.conversation), m.text)));
    return u;
  };

  return {
    platform: 'telegram',
    kind: 'dm', // private chats
    adapter,
    deliver: (m) => postUpdate(app.url, updateFor(m)),
    // Anyone who knows the URL but not the secret: a fresh update with a wrong secret header.
    deliverForged: (m) => postUpdate(app.url, privateUpdate(userOf(m.conversation), m.text), 'not-the-webhook-secret'),
    deliverMalformed: () => postUpdate(app.url, '{"update_id": 1, "message": '),
    sent: async (conversation) => {
      const u = users.get(conversation);
      return u ? fake.sentTo(u.id).map((s) => s.text) : [];
    },
    async close() {
      await app.close();
      await fake.close();
    },
  };
});
