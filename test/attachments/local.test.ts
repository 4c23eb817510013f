/**
 * Attachments in, through the local channel and the whole pipeline (real Redis, Postgres, worker; the offline
 * model echoes what it was given, image input included): images as image input, text files inlined, voice notes
 * transcribed by the fake OpenAI endpoint, over-cap files refused politely, URLs only from the allowed hosts.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai/server.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { fixtureFile, startFileServer, type FileServer } from '../helpers/files.js';

const PNG = fixtureFile('pixel.png');
const OGG = fixtureFile('voice.ogg');
const NOTES = fixtureFile('notes.txt');
const dataUrl = (type: string, b: Buffer) => `data:${type};base64,${b.toString('base64')}`;

let app: TestApp;
let files: FileServer;
let forbidden: FileServer;
let openai: FakeOpenAI;
let n = 0;

async function say(body: Record<string, unknown>): Promise<{ status: number; text: string; body: any }> {
  const res = await app.post('/local/messages', {
    conversation: `att-${++n}`,
    user: 'u1',
    kind: 'dm',
    wait: true,
    text: '',
    ...body,
  });
  const text = ((res.body.replies ?? []) as { text: string }[]).map((r) => r.text).join('\n');
  return { status: res.status, text, body: res.body };
}

beforeAll(async () => {
  openai = await startFakeOpenAI({ ttftMs: 0, tokensPerSec: 1000, answerTokens: 1 });
  files = await startFileServer({
    '/pixel.png': { body: PNG, type: 'image/png' },
    '/big.png': { body: Buffer.concat([PNG, Buffer.alloc(4096)]), type: 'image/png' },
    '/not-an-image.png': { body: Buffer.from('hello, not a picture'), type: 'image/png' },
  });
  forbidden = await startFileServer({ '/pixel.png': { body: PNG, type: 'image/png' } });
  app = await startTestApp({
    env: {
      ATTACHMENT_MAX_BYTES: '2048',
      ATTACHMENT_URL_HOSTS: files.url,
      TRANSCRIPTION_MODEL: 'whisper-1',
      TRANSCRIPTION_BASE_URL: openai.url,
    },
  });
});
afterAll(async () => {
  await app?.close();
  await Promise.all([files?.close(), forbidden?.close(), openai?.close()]);
});

describe('attachments in (local channel)', () => {
  it('an image sent as a data: URL reaches the model as image input', async () => {
    const r = await say({
      text: 'what is this?',
      attachments: [{ url: dataUrl('image/png', PNG), name: 'pixel.png' }],
    });
    expect(r.status).toBe(200);
    expect(r.text).toContain('what is this?');
    expect(r.text).toContain(`[image input: image/png, ${PNG.length} bytes]`);
  });

  it('an image URL on ATTACHMENT_URL_HOSTS is downloaded and shown to the model', async () => {
    const r = await say({ text: 'and this?', attachments: [{ url: `${files.url}/pixel.png` }] });
    expect(r.text).toContain(`[image input: image/png, ${PNG.length} bytes]`);
    expect(files.hits.some((h) => h.path === '/pixel.png')).toBe(true);
  });

  it('a URL on any other host is not fetched', async () => {
    const r = await say({ text: 'look', attachments: [{ url: `${forbidden.url}/pixel.png`, mimeType: 'image/png' }] });
    expect(r.status).toBe(200);
    expect(forbidden.hits).toHaveLength(0);
    expect(r.text).not.toContain('[image input');
    expect(r.text).toContain('not on the platform’s file host');
  });

  it('a text file is inlined for the model', async () => {
    const r = await say({ text: 'summarise', attachments: [{ url: dataUrl('text/plain', NOTES), name: 'notes.txt' }] });
    expect(r.text).toContain('[file: notes.txt, its text follows]');
    expect(r.text).toContain('3 lemons');
  });

  it('a file over ATTACHMENT_MAX_BYTES is refused and the user is told; a data: URL over it gets 413', async () => {
    const r = await say({ text: 'big one', attachments: [{ url: `${files.url}/big.png`, name: 'big.png' }] });
    expect(r.status).toBe(200);
    expect(r.text).not.toContain('[image input');
    expect(r.text).toMatch(/I couldn't open big\.png: it is 4 KB, and the limit is 2 KB/);
    const inline = await say({ attachments: [{ url: dataUrl('image/png', Buffer.alloc(4096)) }] });
    expect(inline.status).toBe(413);
    expect(inline.body.error).toContain('attachment too large');
  });

  it('a file that only claims to be an image is described, not shown', async () => {
    const r = await say({ text: 'pic', attachments: [{ url: `${files.url}/not-an-image.png`, name: 'x.png' }] });
    expect(r.text).not.toContain('[image input');
    expect(r.text).toContain('not an image I can show');
  });

  it('a voice note is transcribed by the transcription endpoint and marked as transcribed', async () => {
    openai.transcript = 'please book a table for two';
    const before = openai.transcriptions.length;
    const r = await say({ attachments: [{ url: dataUrl('audio/ogg', OGG), name: 'voice.ogg' }] });
    expect(r.text).toContain('[voice note, transcribed: please book a table for two]');
    expect(openai.transcriptions.slice(before)).toEqual([
      { model: 'whisper-1', fileName: 'voice.ogg', bytes: OGG.length },
    ]);
  });

  it('the session keeps a note of an image, not its bytes', async () => {
    const sql = postgres(app.db.url, { max: 1 });
    await say({ text: 'remember the pixel', attachments: [{ url: dataUrl('image/png', PNG) }] });
    const rows =
      await sql`select item::text as item from session_items where item->>'role' = 'user' and item::text like '%remember the pixel%'`;
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) {
      expect(r.item).not.toContain('base64');
      expect(r.item).toContain('[an image was shown here]');
    }
    await sql.end();
  });
});

describe('attachments in, without transcription or image input', () => {
  let plain: TestApp;
  beforeAll(async () => {
    plain = await startTestApp({ env: { MODEL_ACCEPTS_IMAGES: 'false' } });
  });
  afterAll(async () => plain?.close());

  it('says a voice note arrived that cannot be transcribed, and describes images the model cannot see', async () => {
    const res = await plain.post('/local/messages', {
      conversation: 'offline-voice',
      user: 'u1',
      kind: 'dm',
      wait: true,
      text: 'hi',
      attachments: [
        { url: dataUrl('audio/ogg', OGG), name: 'voice.ogg' },
        { url: dataUrl('image/png', PNG), name: 'pixel.png' },
      ],
    });
    const text = (res.body.replies as { text: string }[]).map((r) => r.text).join('\n');
    expect(text).toContain('a voice note arrived, but voice notes cannot be transcribed here');
    expect(text).toContain('this model cannot see images');
    expect(text).not.toContain('[image input');
  });
});

describe('attachments in, per agent (agents file)', () => {
  let routed: TestApp;
  let dir: string;
  beforeAll(async () => {
    mkdirSync('test-artifacts', { recursive: true });
    dir = mkdtempSync(resolve('test-artifacts', 'attach-agents-'));
    const file = resolve(dir, 'agents.yaml');
    const agents = {
      agents: [
        { name: 'sighted', instructions: 'You see pictures.' },
        { name: 'textonly', instructions: 'Your model reads text only.', images: false },
      ],
      routes: [{ platform: 'local', channel: 'text-only', agent: 'textonly' }],
      default: 'sighted',
    };
    writeFileSync(file, JSON.stringify(agents)); // JSON is YAML
    routed = await startTestApp({ env: { AGENTS_FILE: file } });
  });
  afterAll(async () => {
    await routed?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("follows the agent's `images` flag: shown to one agent, described to the other", async () => {
    const ask = async (conversation: string) => {
      const res = await routed.post('/local/messages', {
        conversation,
        user: 'u1',
        wait: true,
        text: 'see?',
        attachments: [{ url: dataUrl('image/png', PNG), name: 'pixel.png' }],
      });
      return (res.body.replies as { text: string }[]).map((r) => r.text).join('\n');
    };
    expect(await ask('pictures-ok')).toContain(`[image input: image/png, ${PNG.length} bytes]`);
    const described = await ask('text-only');
    expect(described).not.toContain('[image input');
    expect(described).toContain('this model cannot see images');
  });
});
