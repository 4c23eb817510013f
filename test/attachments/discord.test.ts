/**
 * Discord attachments in, end to end: MESSAGE_CREATE over the fake gateway (the documented payload, with
 * `attachments[]` as Discord sends them: CDN urls, content_type, size; a voice message with its waveform), files
 * served by the fake's CDN path. The offline model's echo shows what it was given.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageCreate, person, snowflake } from '../fakes/discord/index.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai/server.js';
import { repliesIn, startDiscordApp, type DiscordApp } from '../adapters/discord/pipeline-helpers.js';
import { fixtureFile, startFileServer, type FileServer } from '../helpers/files.js';

const PNG = fixtureFile('pixel.png');
let d: DiscordApp;
let openai: FakeOpenAI;
let elsewhere: FileServer;

beforeAll(async () => {
  openai = await startFakeOpenAI({ ttftMs: 0, tokensPerSec: 1000, answerTokens: 1 });
  elsewhere = await startFileServer({ '/pixel.png': { body: PNG, type: 'image/png' } });
  d = await startDiscordApp({
    env: { ATTACHMENT_MAX_BYTES: '2048', TRANSCRIPTION_MODEL: 'whisper-1', TRANSCRIPTION_BASE_URL: openai.url },
  });
});
afterAll(async () => {
  await d?.app.close();
  await d?.fake.stop();
  await Promise.all([openai?.close(), elsewhere?.close()]);
});

/** A DM with these attachments in a fresh DM channel; resolves with the bot's answer. */
async function dm(content: string, attachments: Record<string, unknown>[], flags = 0): Promise<string> {
  const channelId = snowflake();
  const m = messageCreate({ guildId: null, channelId, author: person('Ada'), content, attachments });
  if (flags) m.flags = flags;
  d.fake.gateway.dispatch('MESSAGE_CREATE', m);
  return (await repliesIn(d.fake, channelId)).join('\n');
}

describe('Discord attachments in', () => {
  it('an image from the CDN reaches the model as image input', async () => {
    const text = await dm('what is this?', [d.fake.addAttachment('pixel.png', PNG, 'image/png')]);
    expect(text).toContain(`[image input: image/png, ${PNG.length} bytes]`);
    expect(d.fake.downloads.some((p) => p.endsWith('/pixel.png'))).toBe(true);
  });

  it('a voice message is transcribed and marked as transcribed', async () => {
    openai.transcript = 'see you at nine';
    const voice = d.fake.addAttachment('voice-message.ogg', fixtureFile('voice.ogg'), 'audio/ogg', {
      duration_secs: 1.2,
      waveform: 'AAAAAAAAAAAA',
    });
    const text = await dm('', [voice], 1 << 13);
    expect(text).toContain('[voice note, transcribed: see you at nine]');
  });

  it('an over-cap file is refused with a notice; a text file is inlined', async () => {
    const big = d.fake.addAttachment('poster.png', Buffer.concat([PNG, Buffer.alloc(5000)]), 'image/png');
    const notes = d.fake.addAttachment('notes.txt', fixtureFile('notes.txt'), 'text/plain; charset=utf-8');
    const text = await dm('two', [big, notes]);
    expect(text).toMatch(/I couldn.t open poster\.png: it is 5 KB, and the limit is 2 KB/);
    expect(text).toContain('3 lemons');
  });

  it('an attachment url on another host is not fetched', async () => {
    const url = `${elsewhere.url}/pixel.png`;
    const text = await dm('look', [
      { id: snowflake(), filename: 'pixel.png', size: PNG.length, url, proxy_url: url, content_type: 'image/png' },
    ]);
    expect(elsewhere.hits).toHaveLength(0);
    expect(text).not.toContain('[image input');
  });
});
