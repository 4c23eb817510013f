/**
 * Files never reach the logs: at trace level, through the production logger, a sentinel in file names, URLs and
 * file contents, and the Telegram bot token (it is in every file URL), appear in no line, on the paths that fail
 * (not found, over the cap, a forbidden host, a transcription error, a getFile error) as on those that work.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger.js';
import { startFakeBotApi, type FakeBotApi } from '../fakes/telegram/fake-bot-api.js';
import { BOT, TOKEN, fixture } from '../adapters/telegram/helpers.js';
import { postUpdate, repliesIn, telegramEnv } from '../adapters/telegram/e2e-helpers.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { fixtureFile, startFileServer, type FileServer } from '../helpers/files.js';

const SENTINEL = 'okapi-sentinel-5Z8';
const lines: string[] = [];
let app: TestApp;
let files: FileServer;
let fake: FakeBotApi;

beforeAll(async () => {
  fake = await startFakeBotApi(TOKEN, BOT);
  files = await startFileServer({
    [`/${SENTINEL}.txt`]: { body: Buffer.from(`contents ${SENTINEL}`), type: 'text/plain' },
    [`/${SENTINEL}-big.png`]: { body: Buffer.alloc(4096), type: 'image/png' },
    [`/${SENTINEL}.ogg`]: { body: fixtureFile('voice.ogg'), type: 'audio/ogg' },
  });
  app = await startTestApp({
    log: createLogger('trace', 'gateway', { write: (l: string) => void lines.push(l) }),
    env: {
      ...telegramEnv(fake, 'webhook'),
      LOG_LEVEL: 'trace',
      ATTACHMENT_MAX_BYTES: '2048',
      ATTACHMENT_URL_HOSTS: files.url,
      // A transcription endpoint that is not there: the voice note's transcription fails.
      TRANSCRIPTION_MODEL: 'whisper-1',
      TRANSCRIPTION_BASE_URL: `${files.url}/v1`,
    },
  });
});
afterAll(async () => {
  await app?.close();
  await Promise.all([files?.close(), fake?.close()]);
});

it('keeps file names, URLs, contents and the bot token out of every log line', async () => {
  const res = await app.post('/local/messages', {
    conversation: 'no-log',
    user: 'u1',
    kind: 'dm',
    wait: true,
    text: 'files',
    attachments: [
      { url: `${files.url}/${SENTINEL}.txt` },
      { url: `${files.url}/${SENTINEL}-big.png` },
      { url: `${files.url}/${SENTINEL}-missing.png` },
      { url: `http://127.0.0.1:1/${SENTINEL}.png`, name: `${SENTINEL}.png` },
      { url: `${files.url}/${SENTINEL}.ogg`, mimeType: 'audio/ogg' },
    ],
  });
  expect(res.status).toBe(200);
  const answer = (res.body.replies as { text: string }[]).map((r) => r.text).join('\n');
  expect(answer).toContain(`contents ${SENTINEL}`); // the model did read the text file
  expect(answer).toContain('could not be transcribed just now');

  // Telegram: one photo downloaded, one whose getFile fails.
  const u = fixture('update_message_photo.json');
  const ok = fake.addFile(fixtureFile('pixel.png'), `photos/${SENTINEL}.jpg`);
  fake.failNext('getFile', { error_code: 400, description: `Bad Request: ${SENTINEL}` });
  const first = { ...u.message, photo: [{ ...fake.addFile(Buffer.alloc(1), 'photos/x.jpg'), width: 1, height: 1 }] };
  expect(await postUpdate(app.url, { update_id: 70_001, message: first })).toBe(200);
  await repliesIn(fake, u.message.chat.id);
  const second = { ...u.message, message_id: 99_999, photo: [{ ...ok, width: 1, height: 1 }] };
  expect(await postUpdate(app.url, { update_id: 70_002, message: second })).toBe(200);
  const replies = await repliesIn(fake, u.message.chat.id, 2);
  expect(replies.at(-1)!.text).toContain('[image input: image/png');

  expect(lines.some((l) => l.includes('attachment not read'))).toBe(true);
  const leaks = lines.filter((l) => l.includes(SENTINEL) || l.includes(TOKEN) || l.includes(TOKEN.split(':')[1]!));
  expect(leaks).toEqual([]);
});
