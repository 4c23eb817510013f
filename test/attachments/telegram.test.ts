/**
 * Telegram files in, end to end over the webhook: updates shaped like the documented photo / voice / document
 * samples (test/fixtures/telegram), file_ids the fake Bot API answers `getFile` for and serves at
 * `/file/bot<token>/<path>`. The offline model's echo shows what it was given.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeBotApi, type FakeBotApi } from '../fakes/telegram/fake-bot-api.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai/server.js';
import { BOT, TOKEN, fixture } from '../adapters/telegram/helpers.js';
import { postUpdate, repliesIn, startTelegramApp, type TelegramApp } from '../adapters/telegram/e2e-helpers.js';
import { fixtureFile } from '../helpers/files.js';

const PNG = fixtureFile('pixel.png');
let fake: FakeBotApi;
let t: TelegramApp;
let openai: FakeOpenAI;
let chat = 5_000_000;
let update = 90_000;

beforeAll(async () => {
  fake = await startFakeBotApi(TOKEN, BOT);
  openai = await startFakeOpenAI({ ttftMs: 0, tokensPerSec: 1000, answerTokens: 1 });
  t = await startTelegramApp(fake, {
    mode: 'webhook',
    env: { ATTACHMENT_MAX_BYTES: '2048', TRANSCRIPTION_MODEL: 'whisper-1', TRANSCRIPTION_BASE_URL: openai.url },
  });
});
afterAll(async () => {
  await t?.app.close();
  await Promise.all([fake?.close(), openai?.close()]);
});

/** The fixture `name`'s message in a fresh private chat, with `fields` replaced; resolves with the bot's answer. */
async function send(name: string, fields: Record<string, unknown>): Promise<string> {
  const u = fixture(name);
  const id = ++chat;
  const message = { ...u.message, ...fields, chat: { ...u.message.chat, id }, from: { ...u.message.from, id } };
  expect(await postUpdate(t.app.url, { update_id: ++update, message })).toBe(200);
  return (await repliesIn(fake, id)).map((m) => m.text).join('\n');
}

describe('Telegram attachments in', () => {
  it('a photo reaches the model as image input (getFile, then the file URL)', async () => {
    const small = fake.addFile(Buffer.from('tiny'), 'photos/file_0.jpg');
    const large = fake.addFile(PNG, 'photos/file_1.jpg');
    const text = await send('update_message_photo.json', {
      photo: [
        { ...small, width: 90, height: 67 },
        { ...large, width: 1280, height: 960 },
      ],
    });
    expect(text).toContain('what is in this picture?');
    // The type sniffed from the bytes wins over the declared image/jpeg.
    expect(text).toContain(`[image input: image/png, ${PNG.length} bytes]`);
    expect(fake.downloads).toContain('photos/file_1.jpg');
    expect(fake.downloads).not.toContain('photos/file_0.jpg');
  });

  it('a voice note is transcribed and marked as transcribed', async () => {
    openai.transcript = 'running ten minutes late';
    const voice = fake.addFile(fixtureFile('voice.ogg'), 'voice/file_2.oga');
    const text = await send('update_message_voice.json', { voice: { ...voice, duration: 4, mime_type: 'audio/ogg' } });
    expect(text).toContain('[voice note, transcribed: running ten minutes late]');
    expect(openai.transcriptions.at(-1)).toMatchObject({ model: 'whisper-1', bytes: fixtureFile('voice.ogg').length });
  });

  it('a document over the cap is refused with a notice and not downloaded; a text document is inlined', async () => {
    const big = fake.addFile(Buffer.alloc(10_000, 65), 'documents/file_3.txt');
    let text = await send('update_message_photo.json', {
      photo: undefined,
      caption: 'big file',
      document: { ...big, file_name: 'log.txt', mime_type: 'text/plain' },
    });
    expect(text).toMatch(/I couldn.t open log\.txt: it is 10 KB, and text files are read up to 2 KB/);
    expect(fake.downloads).not.toContain('documents/file_3.txt');
    const notes = fake.addFile(fixtureFile('notes.txt'), 'documents/file_4.txt');
    text = await send('update_message_photo.json', {
      photo: undefined,
      caption: 'read this',
      document: { ...notes, file_name: 'notes.txt', mime_type: 'text/plain' },
    });
    expect(text).toContain('oat milk');
  });
});
