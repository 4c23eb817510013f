/**
 * The agent API takes the same files as the chat platforms: image_url parts (http(s) or data: URLs) and LangChain
 * standard blocks (image / audio / file, url or base64). The offline model's echo shows what it was given.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@langchain/langgraph-sdk';
import { lastAi, startApiApp, statusOf, type ApiTestApp } from '../api/helpers.js';
import { fixtureFile } from '../helpers/files.js';

const PNG = fixtureFile('pixel.png');
let app: ApiTestApp;
let client: Client;

beforeAll(async () => {
  app = await startApiApp({ ATTACHMENT_MAX_BYTES: '2048' });
  ({ client } = await app.newClient('attachments'));
});
afterAll(async () => app?.close());

const ask = (content: unknown[]) =>
  client.runs.wait(null, 'agent', { input: { messages: [{ role: 'user', content }] } });

describe('agent API attachments in', () => {
  it('an image_url data: URL reaches the model as image input', async () => {
    const out = await ask([
      { type: 'text', text: 'describe this' },
      { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG.toString('base64')}` } },
    ]);
    expect(lastAi(out)).toContain(`[image input: image/png, ${PNG.length} bytes]`);
  });

  it('a base64 text file block is inlined', async () => {
    const data = fixtureFile('notes.txt').toString('base64');
    const out = await ask([
      { type: 'file', source_type: 'base64', mime_type: 'text/plain', data, filename: 'notes.txt' },
    ]);
    expect(lastAi(out)).toContain('3 lemons');
  });

  it('a data: URL over ATTACHMENT_MAX_BYTES is refused with 413', async () => {
    const big = `data:image/png;base64,${Buffer.alloc(4096).toString('base64')}`;
    expect(await statusOf(ask([{ type: 'image_url', image_url: big }]))).toBe(413);
  });
});
