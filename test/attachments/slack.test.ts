/**
 * Slack files in, end to end: a signed `file_share` message event (the documented payload shape) whose files'
 * `url_private` point at the fake Slack, which serves them only with the bot token. The offline model's echo shows
 * what it was given.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai/server.js';
import { FakeSlack } from '../fakes/slack/fake-slack.js';
import { BOT, dmMessage, envelope, fixtureJson, nextSlackTs, postSigned } from '../fakes/slack/requests.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { fixtureFile, startFileServer, type FileServer } from '../helpers/files.js';

const SECRET = 'attach-signing-secret-0123';
const TOKEN = 'xoxb-attach-token';
const PNG = fixtureFile('pixel.png');

let fake: FakeSlack;
let app: TestApp;
let openai: FakeOpenAI;
let elsewhere: FileServer;

beforeAll(async () => {
  fake = await new FakeSlack({ botUserId: BOT }).start();
  openai = await startFakeOpenAI({ ttftMs: 0, tokensPerSec: 1000, answerTokens: 1 });
  elsewhere = await startFileServer({ '/pixel.png': { body: PNG, type: 'image/png' } });
  app = await startTestApp({
    env: {
      SLACK_BOT_TOKEN: TOKEN,
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_API_URL: fake.apiUrl,
      SLACK_BOT_USER_ID: BOT,
      ATTACHMENT_MAX_BYTES: '2048',
      TRANSCRIPTION_MODEL: 'whisper-1',
      TRANSCRIPTION_BASE_URL: openai.url,
    },
  });
});
afterAll(async () => {
  await app?.close();
  await Promise.all([fake?.close(), openai?.close(), elsewhere?.close()]);
});

/** A DM `file_share` event shaped like the recorded fixture, with these files; resolves with the bot's answer. */
async function share(text: string, files: Record<string, unknown>[]): Promise<string> {
  const base = fixtureJson('event_message_file_share.json').event as Record<string, unknown>;
  const ts = nextSlackTs();
  const before = fake.calls.length;
  const res = await postSigned(`${app.url}/slack/events`, SECRET, envelope(dmMessage({ ...base, text, ts, files })));
  expect(res.status).toBe(200);
  const post = await fake.waitFor(
    () => fake.calls.slice(before).find((c) => c.method === 'chat.postMessage' && c.body.channel === base.channel),
    20_000,
  );
  return String(post.body.text);
}

describe('Slack attachments in', () => {
  it('an image reaches the model as image input, downloaded with the bot token', async () => {
    const text = await share('what is in this picture?', [fake.addFile('pixel.png', PNG, 'image/png')]);
    expect(text).toContain(`[image input: image/png, ${PNG.length} bytes]`);
    expect(fake.downloads.at(-1)?.auth).toBe(`Bearer ${TOKEN}`);
  });

  it('an audio file is transcribed and marked as transcribed', async () => {
    openai.transcript = 'call me back after lunch';
    const text = await share('', [fake.addFile('audio_message.webm', fixtureFile('voice.ogg'), 'audio/webm')]);
    expect(text).toContain('[voice note, transcribed: call me back after lunch]');
  });

  it('a text file is inlined; an over-cap file is refused with a notice', async () => {
    const notes = fake.addFile('notes.txt', fixtureFile('notes.txt'), 'text/plain');
    const big = fake.addFile('huge.png', Buffer.concat([PNG, Buffer.alloc(8192)]), 'image/png');
    const text = await share('two files', [notes, big]);
    expect(text).toContain('oat milk');
    expect(text).toMatch(/I couldn.t open huge\.png: it is 8 KB, and the limit is 2 KB/);
    // Its declared size was over the cap: it was not downloaded at all.
    expect(fake.downloads.some((d) => d.path.includes('huge.png'))).toBe(false);
  });

  it('a url_private on another host is not fetched (and never gets the token)', async () => {
    const file = {
      name: 'pixel.png',
      mimetype: 'image/png',
      size: PNG.length,
      url_private: `${elsewhere.url}/pixel.png`,
    };
    const text = await share('sneaky', [file]);
    expect(elsewhere.hits).toHaveLength(0);
    expect(text).not.toContain('[image input');
  });
});
