/**
 * Headless Chromium for the web chat tests: Debian's /usr/bin/chromium via playwright-core, offline flags, and the
 * suite set-up they share (gateway with the web chat, an API key, the browser, a signed-in page).
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { toolGate } from '../helpers/tools.js';
import { startApiApp, type ApiTestApp } from './helpers.js';

/** Debian's package here; CHROMIUM_PATH elsewhere (the GitHub workflow points it at the runner's Chrome). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// Outside CI the browser tests skip when Chromium is missing (README, "Tests"); with CI set they fail.
export const chromiumGate = toolGate(CHROMIUM);

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Screenshots land here (the README's are copied on with DOCS_SCREENSHOTS=1). */
export const ARTIFACTS = path.resolve('test-artifacts');

export interface WebChat {
  readonly app: ApiTestApp;
  /** The API key the pages sign in with. */
  readonly key: string;
  /** A fresh page on /chat with the key saved; `bypassCSP` takes the page's CSP away (only the sanitiser left). */
  openChat(o?: { bypassCSP?: boolean }): Promise<Page>;
}

/**
 * Call inside a describe: before its tests, the gateway with the web chat on, a client key and Chromium; after
 * them, all closed. `height` is the window's, so a screenshot shows what it is meant to.
 */
export function useWebChat(clientName: string, height: number): WebChat {
  let app: ApiTestApp | undefined;
  let browser: Browser | undefined;
  let key = '';

  beforeAll(async () => {
    chromiumGate.require();
    app = await startApiApp({ WEB_CHAT: 'true' });
    ({ key } = await app.newClient(clientName));
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    await mkdir(ARTIFACTS, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  return {
    get app() {
      if (!app) throw new Error('web chat app not started');
      return app;
    },
    get key() {
      return key;
    },
    async openChat(o = {}) {
      if (!browser || !app) throw new Error('web chat browser not started');
      const context = await browser.newContext({ bypassCSP: o.bypassCSP ?? false, viewport: { width: 1100, height } });
      await context.addInitScript(`localStorage.setItem('gw-chat-api-key', ${JSON.stringify(key)})`);
      const page = await context.newPage();
      await page.goto(`${app.url}/chat`);
      await expect.poll(() => page.locator('#key-overlay').isVisible()).toBe(false);
      return page;
    },
  };
}
