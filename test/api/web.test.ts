/**
 * The web chat in a real headless Chromium (Debian's /usr/bin/chromium via playwright-core): enter a key, type a
 * message, watch the answer stream in, reload and find the thread with its messages. Screenshots go to test-artifacts/.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, CHROMIUM_ARGS, chromiumGate } from './browser.js';
import { startApiApp, type ApiTestApp } from './helpers.js';

const ARTIFACTS = path.resolve('test-artifacts');

describe.skipIf(chromiumGate.skip)('web chat in headless Chromium', () => {
  let app: ApiTestApp;
  let context: BrowserContext;
  let page: Page;
  let userDataDir: string;
  let key: string;
  const apiCalls: { url: string; method: string; hasKey: boolean }[] = [];

  beforeAll(async () => {
    chromiumGate.require();
    // A non-default prefix: the page finds the API where the gateway mounted it.
    app = await startApiApp({ API_STREAM_CHUNK_CHARS: '6', WEB_CHAT: 'true', API_PREFIX: '/v1/agent' });
    ({ key } = await app.newClient('web'));
    userDataDir = await mkdtemp(path.join(tmpdir(), 'gw-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('request', (r) => {
      const u = new URL(r.url());
      if (u.pathname.startsWith(app.config.API_PREFIX))
        apiCalls.push({ url: u.pathname, method: r.method(), hasKey: Boolean(r.headers()['x-api-key']) });
    });
    await mkdir(ARTIFACTS, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
    await app?.close();
  });

  it('asks for a key, streams the answer to a typed message, and keeps the thread across a reload', async () => {
    await page.goto(`${app.url}/chat`);
    await expect.poll(() => page.locator('#key-overlay').isVisible()).toBe(true);
    await page.fill('#key-input', key);
    await page.click('#key-save');
    await expect.poll(() => page.locator('#key-overlay').isVisible()).toBe(false);

    const text = '[[slow:700]] hi from the browser, one two three four five';
    await page.fill('#input', text);
    await page.press('#input', 'Enter');

    // While the turn works, the answer bubble is there and marked streaming; then the deltas arrive.
    const answer = page.locator('.msg-ai').last();
    await expect.poll(() => answer.evaluate((el) => el.classList.contains('streaming')), { timeout: 5_000 }).toBe(true);
    await expect
      .poll(() => page.locator('#messages').getAttribute('data-last-chunks'), { timeout: 15_000 })
      .not.toBeNull();
    expect(Number(await page.locator('#messages').getAttribute('data-last-chunks'))).toBeGreaterThan(3);
    await expect
      .poll(() => page.locator('.msg-ai').last().textContent())
      .toMatch(/^Echo: .*hi from the browser, one two three four five$/);
    expect(await page.locator('.msg-human').last().textContent()).toBe(text);
    expect(await page.locator('.streaming').count()).toBe(0);
    await page.screenshot({ path: path.join(ARTIFACTS, 'web-chat-answer.png'), fullPage: true });

    // The thread is listed, titled by the first message, and the URL names it.
    const threadButton = page.locator('#threads button');
    await expect.poll(() => threadButton.count()).toBe(1);
    expect(await threadButton.first().textContent()).toBe(text);
    const threadId = new URL(page.url()).hash.slice(1);
    expect(threadId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await threadButton.first().getAttribute('data-thread')).toBe(threadId);

    await page.reload();
    await expect.poll(() => page.locator('#threads button').count()).toBe(1);
    await expect.poll(() => page.locator('#messages .msg').count()).toBe(2);
    expect(await page.locator('#key-overlay').isVisible()).toBe(false); // the key survived in localStorage
    expect(await page.locator('.msg-human').first().textContent()).toBe(text);
    expect(await page.locator('.msg-ai').first().textContent()).toMatch(/one two three four five$/);

    // A new chat empties the view; picking the past thread in the sidebar shows its messages again.
    await page.click('#new-chat');
    await expect.poll(() => page.locator('#messages .msg').count()).toBe(0);
    await page.click(`#threads button[data-thread="${threadId}"]`);
    await expect.poll(() => page.locator('#messages .msg').count()).toBe(2);
    await page.screenshot({ path: path.join(ARTIFACTS, 'web-chat-after-reload.png'), fullPage: true });
    expect(existsSync(path.join(ARTIFACTS, 'web-chat-after-reload.png'))).toBe(true);

    // The server holds the same conversation the page shows.
    const state = await app.client(key).threads.getState<{ messages: { content: string }[] }>(threadId);
    expect(state.values.messages.map((m) => m.content)[0]).toBe(text);
  });

  it('talks only to the public API, always with the key', () => {
    expect(apiCalls.length).toBeGreaterThan(4);
    for (const c of apiCalls) expect(c.hasKey, `${c.method} ${c.url}`).toBe(true);
    const paths = apiCalls.map(
      (c) => `${c.method} ${c.url.slice(app.config.API_PREFIX.length).replace(/[0-9a-f-]{36}/g, ':id')}`,
    );
    expect(new Set(paths)).toEqual(
      new Set(['POST /threads/search', 'POST /threads', 'POST /threads/:id/runs/stream', 'GET /threads/:id/state']),
    );
  });

  it('sends an attached picture, which reaches the model as image input', async () => {
    await page.click('#new-chat');
    const png = fileURLToPath(new URL('../fixtures/attachments/pixel.png', import.meta.url));
    await page.setInputFiles('#attach', png);
    await page.fill('#input', 'what is this picture?');
    await page.press('#input', 'Enter');
    await expect
      .poll(() => page.locator('.msg-ai').last().textContent(), { timeout: 15_000 })
      .toContain('[image input: image/png, 75 bytes]');
    expect(await page.locator('.msg-human').last().textContent()).toContain('what is this picture?');
  });
});

describe('web chat switch', () => {
  // Production-shaped config; the URLs are required by validation, the test services are what the app uses.
  const production = {
    NODE_ENV: 'production',
    LOCAL_CHANNEL: 'off',
    DATABASE_URL: 'postgres://unused@127.0.0.1/unused',
    REDIS_URL: 'redis://127.0.0.1:6379',
  };

  it('is off in production unless WEB_CHAT is on; the API is served either way', async () => {
    for (const [env, chatStatus] of [
      [production, 404],
      [{ ...production, WEB_CHAT: 'true' }, 200],
    ] as const) {
      const app = await startApiApp(env);
      try {
        expect((await fetch(`${app.url}/chat`)).status).toBe(chatStatus);
        expect((await fetch(`${app.apiUrl}/openapi.json`)).status).toBe(200);
      } finally {
        await app.close();
      }
    }
  });
});
