/**
 * Outbound through the real grammY client against the fake Bot API: rendering survives Telegram's parser, the
 * plain-text fallback, error mapping (429 / 403 / 400), topics and replies, typing, commands and setWebhook.
 */
import { GrammyError } from 'grammy';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTelegramAdapter, setTelegramWebhook, type TelegramAdapter } from '../../../adapters/telegram/index.js';
import { toPlainText } from '../../../adapters/telegram/format.js';
import { PermanentSendError, RateLimitedError } from '../../../src/core/errors.js';
import type { ConversationRef, RenderedPart } from '../../../src/core/types.js';
import { type FakeBotApi, startFakeBotApi } from '../../fakes/telegram/fake-bot-api.js';
import { MARKDOWN_V2_RESERVED } from '../../fakes/telegram/markdownv2.js';
import { BOT, SECRET, silent, TOKEN } from './helpers.js';

let fake: FakeBotApi;
let adapter: TelegramAdapter;

const dm: ConversationRef = {
  platform: 'telegram',
  tenant: String(BOT.id),
  channel: '1111111',
  kind: 'dm',
  user: '1111111',
};
const topic: ConversationRef = {
  platform: 'telegram',
  tenant: String(BOT.id),
  channel: '-1009876543210',
  kind: 'group',
  thread: '42',
};
const part = (text: string, extra: Partial<RenderedPart> = {}): RenderedPart => ({
  text,
  index: 0,
  total: 1,
  idempotencyKey: 't:0',
  ...extra,
});

/** Send a whole markdown message the way the outbound stage does: render, then one send per part. */
async function sendMarkdown(ref: ConversationRef, markdown: string, replyTo?: string) {
  const parts = adapter.render(markdown);
  const receipts = [];
  for (const [index, text] of parts.entries()) {
    receipts.push(
      await adapter.send(ref, {
        text,
        index,
        total: parts.length,
        idempotencyKey: `t:${index}`,
        ...(replyTo ? { replyTo } : {}),
      }),
    );
  }
  return { parts, receipts };
}

beforeAll(async () => {
  fake = await startFakeBotApi(TOKEN, BOT);
  adapter = createTelegramAdapter({
    token: TOKEN,
    apiRoot: `${fake.url}/`,
    mode: 'webhook',
    webhookSecret: SECRET,
    log: silent,
  });
});
afterAll(async () => {
  await fake.close();
});

describe('telegram send: formatting reaches the user intact', () => {
  it('text full of MarkdownV2 special characters is accepted and shows exactly as written', async () => {
    // Markdown-escaped so the model's text is taken literally; what Telegram shows must be the original.
    const original = `Specials: ${MARKDOWN_V2_RESERVED} and again _*[]()~\`>#+-=|{}.! end.`;
    const markdown = original.replace(/[\\`*_{}[\]()#+\-.!|~>=]/g, '\\$&');
    const before = fake.sent.length;
    const { receipts } = await sendMarkdown(dm, markdown);
    const sent = fake.sent.slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.parse_mode).toBe('MarkdownV2');
    expect(sent[0]!.text).toBe(original);
    expect(receipts[0]!.platformMessageId).toBe(String(sent[0]!.message_id));
  });

  it('a long message with code is split within 4,096, fences balanced, nothing lost, all formatted', async () => {
    const codeLines = Array.from({ length: 300 }, (_, i) => `fn_${i}(x[${i}]) -> {"k": ${i}}.done(); // #${i}`);
    const prose = Array.from({ length: 30 }, (_, i) => `**Step ${i}.** Do _this_ (then that)!`).join('\n\n');
    const before = fake.sent.length;
    const { parts } = await sendMarkdown(dm, `${prose}\n\n\`\`\`rust\n${codeLines.join('\n')}\n\`\`\``, '555');
    const sent = fake.sent.slice(before);
    expect(parts.length).toBeGreaterThan(2);
    expect(sent).toHaveLength(parts.length);
    for (const s of sent) {
      expect(s.raw.length).toBeLessThanOrEqual(4096);
      expect(s.parse_mode).toBe('MarkdownV2'); // no part needed the plain fallback
      expect(s.raw.split('\n').filter((l) => l.startsWith('```')).length % 2).toBe(0);
    }
    const shown = sent.map((s) => s.text).join('\n');
    expect(shown.split('\n').filter((l) => l.startsWith('fn_'))).toEqual(codeLines);
    for (let i = 0; i < 30; i++) expect(shown).toContain(`Step ${i}. Do this (then that)!`);
    // Only the first part replies to the user's message.
    expect(sent.map((s) => s.reply_to)).toEqual([555, ...Array(sent.length - 1).fill(undefined)]);
  });

  it('sends into the forum topic of the conversation', async () => {
    const before = fake.sent.length;
    await sendMarkdown(topic, 'In the topic.');
    expect(fake.sent[before]).toMatchObject({ chat_id: -1009876543210, message_thread_id: 42, text: 'In the topic.' });
  });
});

describe('telegram send: failures', () => {
  it('"can\'t parse entities" -> the same part is resent as plain text, escapes removed', async () => {
    const before = fake.calls.length;
    const broken = '*unclosed bold\\. and \\(parens\\) [link](https://example.com/x)';
    const receipt = await adapter.send(dm, part(broken));
    const calls = fake.calls.slice(before).filter((c) => c.method === 'sendMessage');
    expect(calls).toHaveLength(2);
    expect(calls[0]!.params.parse_mode).toBe('MarkdownV2');
    expect(calls[1]!.params.parse_mode).toBeUndefined();
    const sent = fake.sent.at(-1)!;
    expect(sent.text).toBe('unclosed bold. and (parens) link (https://example.com/x)');
    expect(sent.text).toBe(toPlainText(broken));
    expect(receipt.platformMessageId).toBe(String(sent.message_id));
  });

  it('429 -> RateLimitedError with retry_after in ms, no hidden retry; the retry then succeeds', async () => {
    fake.failNext('sendMessage', {
      error_code: 429,
      description: 'Too Many Requests: retry after 7',
      parameters: { retry_after: 7 },
    });
    const before = fake.callsOf('sendMessage').length;
    const err = await adapter.send(dm, part('hello')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitedError);
    expect((err as RateLimitedError).retryAfterMs).toBe(7000);
    expect(fake.callsOf('sendMessage').length).toBe(before + 1);
    await expect(adapter.send(dm, part('hello'))).resolves.toMatchObject({ platformMessageId: expect.any(String) });
    expect(fake.sent.at(-1)!.text).toBe('hello');
  });

  it('403 blocked -> PermanentSendError(blocked); kicked -> forbidden; 400 chat not found -> not_found', async () => {
    fake.block('2222222');
    const blocked = await adapter
      .send({ ...dm, channel: '2222222', user: '2222222' }, part('hi'))
      .catch((e: unknown) => e);
    expect(blocked).toBeInstanceOf(PermanentSendError);
    expect((blocked as PermanentSendError).reason).toBe('blocked');

    fake.failNext('sendMessage', {
      error_code: 403,
      description: 'Forbidden: bot was kicked from the supergroup chat',
    });
    const kicked = await adapter.send(topic, part('hi')).catch((e: unknown) => e);
    expect((kicked as PermanentSendError).reason).toBe('forbidden');

    fake.failNext('sendMessage', { error_code: 400, description: 'Bad Request: chat not found' });
    const missing = await adapter.send(dm, part('hi')).catch((e: unknown) => e);
    expect((missing as PermanentSendError).reason).toBe('not_found');
  });

  it('server errors stay transient (neither rate limit nor permanent)', async () => {
    fake.failNext('sendMessage', { error_code: 500, description: 'Internal Server Error' });
    const err = await adapter.send(dm, part('hi')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GrammyError);
    expect(err).not.toBeInstanceOf(PermanentSendError);
  });
});

describe('telegram send: typing, pacing, commands, webhook setup', () => {
  it('typing is sent at once and refreshed every ~4.5 s until stopped; never throws', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const before = fake.callsOf('sendChatAction').length;
      const stop = await adapter.startTyping(topic);
      expect(fake.callsOf('sendChatAction').slice(before)).toMatchObject([
        { method: 'sendChatAction', params: { chat_id: -1009876543210, action: 'typing', message_thread_id: 42 } },
      ]);
      await vi.advanceTimersByTimeAsync(4500);
      await vi.waitFor(() => expect(fake.callsOf('sendChatAction').length).toBe(before + 2));
      await stop();
      await vi.advanceTimersByTimeAsync(20_000);
      expect(fake.callsOf('sendChatAction').length).toBe(before + 2);
    } finally {
      vi.useRealTimers();
    }
    fake.block('3333333');
    const stopBlocked = await adapter.startTyping({ ...dm, channel: '3333333' });
    await expect(stopBlocked()).resolves.toBeUndefined();
  });

  it('paces 1 s in private chats and 3 s in groups', () => {
    expect(adapter.paceMs(dm)).toBe(1000);
    expect(adapter.paceMs(topic)).toBe(3000);
    expect(adapter.limits).toEqual({ maxMessageChars: 4096, minSendIntervalMs: 1000 });
  });

  it('publishes the command menu with setMyCommands', async () => {
    await adapter.publishCommands([
      { name: 'help', description: 'What I can do' },
      { name: '/Reset', description: 'Start over' },
    ]);
    expect(fake.callsOf('setMyCommands').at(-1)!.params.commands).toEqual([
      { command: 'help', description: 'What I can do' },
      { command: 'reset', description: 'Start over' },
    ]);
    await expect(adapter.publishCommands([{ name: 'bad-name', description: 'x' }])).rejects.toThrow();
  });

  it('setTelegramWebhook registers the URL with the secret and the update types we handle', async () => {
    // TELEGRAM_API_ROOT may be written with a trailing slash, which grammY refuses: it is stripped.
    await setTelegramWebhook({
      token: TOKEN,
      apiRoot: `${fake.url}/`,
      url: 'https://gw.example.com/telegram/webhook',
      secret: SECRET,
    });
    expect(fake.callsOf('setWebhook').at(-1)!.params).toMatchObject({
      url: 'https://gw.example.com/telegram/webhook',
      secret_token: SECRET,
      allowed_updates: ['message', 'edited_message', 'callback_query'],
      drop_pending_updates: false,
    });
    expect(fake.webhookUrl).toBe('https://gw.example.com/telegram/webhook');
    await expect(
      setTelegramWebhook({ token: TOKEN, apiRoot: fake.url, url: 'https://x', secret: 'has space' }),
    ).rejects.toThrow(/secret/);
  });
});
