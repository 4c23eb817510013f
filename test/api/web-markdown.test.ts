/**
 * The web chat renders the agent's markdown as it streams, in a real headless Chromium: a table and a fenced code
 * block show as <table> and <pre> while the answer is still being written (the open fence never shows as
 * backticks), model output with raw HTML and a javascript: link runs nothing, and the Stop button cancels a
 * streaming run. The renderer and sanitiser (marked, DOMPurify) are served by the gateway itself.
 */
import path from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { ARTIFACTS, chromiumGate, useWebChat } from './browser.js';

/** What the streaming answer showed at each change of the page, recorded in the page (no polling gaps). */
interface Snapshot {
  streaming: boolean;
  table: boolean;
  pre: boolean;
  list: boolean;
  backticks: boolean;
}

describe.skipIf(chromiumGate.skip)('web chat markdown in headless Chromium', () => {
  const chat = useWebChat('web-md', 720);

  async function send(page: Page, text: string): Promise<void> {
    await page.fill('#input', text);
    await page.press('#input', 'Enter');
  }

  it('serves marked and DOMPurify from the gateway, as JavaScript under the page CSP', async () => {
    for (const name of ['marked.js', 'purify.js']) {
      const res = await fetch(`${chat.app.url}/chat/vendor/${name}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/javascript/);
      expect(res.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
      expect(await res.text()).toMatch(/export\s*\{/);
    }
  });

  it('renders a streamed table and code block as <table> and <pre> while the answer is still streaming', async () => {
    const page = await chat.openChat();
    // Record every state the answer bubble goes through while it streams.
    // (Browser code as a string: this project's TypeScript has no DOM library.)
    await page.evaluate(`
      window.snapshots = [];
      new MutationObserver(() => {
        const el = document.querySelector('.msg-ai:last-of-type');
        if (!el) return;
        window.snapshots.push({
          streaming: el.classList.contains('streaming'),
          table: Boolean(el.querySelector('table')),
          pre: Boolean(el.querySelector('pre')),
          list: Boolean(el.querySelector('ul')),
          backticks: (el.textContent || '').includes('\`\`\`'),
        });
      }).observe(document.querySelector('#messages'), { childList: true, subtree: true, characterData: true });
    `);
    await send(page, '[[drip:120]] [[markdown]]');
    const answer = page.locator('.msg-ai').last();
    // Mid-stream: the code block is open (no list yet, which follows it) and already shows as a code block.
    await expect.poll(() => page.locator('.msg-ai.streaming pre').count(), { timeout: 15_000 }).toBe(1);
    await page.screenshot({ path: path.join(ARTIFACTS, 'web-chat-streaming.png') });
    await expect
      .poll(() => answer.evaluate((el) => el.classList.contains('streaming')), { timeout: 15_000 })
      .toBe(false);

    const snapshots = ((await page.evaluate('window.snapshots')) as Snapshot[]).filter((s) => s.streaming);
    expect(snapshots.length).toBeGreaterThan(3);
    expect(
      snapshots.some((s) => s.table && !s.pre),
      'the table rendered before the code began',
    ).toBe(true);
    expect(
      snapshots.some((s) => s.pre && !s.list),
      'the code block rendered while its fence was open',
    ).toBe(true);
    expect(
      snapshots.filter((s) => s.backticks),
      'an open fence never shows as backticks',
    ).toEqual([]);

    // The final answer: a real table (header and two rows), the code in <pre><code>, the list, inline code.
    expect(await answer.locator('table th').allTextContents()).toEqual(['Region', 'Requests', 'p50 ms']);
    expect(await answer.locator('table tbody tr').count()).toBe(2);
    expect(await answer.locator('pre code').textContent()).toContain('return `Hello, ${name}!`;');
    expect(await answer.locator('ul li').count()).toBe(2);
    expect(await answer.locator('strong').textContent()).toBe('summary');
    await page.screenshot({ path: path.join(ARTIFACTS, 'web-chat-markdown.png') });

    // The thread's history renders the same way after a reload.
    await page.reload();
    await expect.poll(() => page.locator('.msg-ai table').count()).toBe(1);
    expect(await page.locator('.msg-ai pre code').count()).toBe(1);
    await page.context().close();
  });

  it('model output with raw HTML, an onerror attribute and a javascript: link runs nothing, even without the CSP', async () => {
    const page = await chat.openChat({ bypassCSP: true });
    // The page runs inline handlers now (proved by a probe): only the renderer and the sanitiser protect it.
    await page.evaluate(`document.body.insertAdjacentHTML('beforeend', '<img src=x onerror="window.__probe=1">')`);
    await expect.poll(() => page.evaluate('window.__probe')).toBe(1);
    const attack =
      '<img src=x onerror="window.__pwned=1"> [click me](javascript:window.__pwned=2) ' +
      '<script>window.__pwned=3</script> <a href="javascript:window.__pwned=4">raw link</a> ' +
      '![pic](x" onerror="window.__pwned=5)';
    await send(page, attack);
    const answer = page.locator('.msg-ai').last();
    await expect
      .poll(() => answer.evaluate((el) => el.classList.contains('streaming')), { timeout: 15_000 })
      .toBe(false);
    await expect.poll(() => answer.textContent()).toContain('click me');

    const check = async () => {
      const bubble = page.locator('.msg-ai').last();
      expect(await bubble.locator('[onerror], script, img[src="x"]').count()).toBe(0);
      expect(await bubble.locator('a[href^="javascript:" i]').count()).toBe(0);
      // Raw HTML is shown as the characters the model wrote.
      expect(await bubble.textContent()).toContain('<img src=x onerror="window.__pwned=1">');
      expect(await bubble.textContent()).toContain('<script>');
      for (const link of await bubble.locator('a').all()) await link.click({ timeout: 2_000 }).catch(() => undefined);
      await page.waitForTimeout(300); // an image error or a click handler would have fired by now
      expect(await page.evaluate('window.__pwned')).toBeUndefined();
    };
    await check();
    await page.reload(); // the same answer rendered from the thread's history
    await expect.poll(() => page.locator('.msg-ai').count()).toBe(1);
    await check();
    await page.context().close();
  });

  it('a turn that starts over mid-stream (its worker died) replaces what was shown instead of appending to it', async () => {
    const page = await chat.openChat();
    // The run's stream as the API sends it when the first attempt died: chunks under a second message id.
    const chunk = (id: string, content: string) =>
      `event: messages\ndata: ${JSON.stringify([{ type: 'AIMessageChunk', id, content }, {}])}\n\n`;
    await page.route(/\/runs\/stream$/, (route) =>
      route.fulfill({
        status: 200,
        headers: { 'content-type': 'text/event-stream' },
        body:
          `event: metadata\ndata: ${JSON.stringify({ run_id: 'r1', thread_id: 't1' })}\n\n` +
          chunk('run-r1', 'Echo: first attempt, half') +
          chunk('run-r1-1', 'Echo: the **retried** ') +
          chunk('run-r1-1', 'answer'),
      }),
    );
    await send(page, 'hello');
    const answer = page.locator('.msg-ai').last();
    await expect
      .poll(() => answer.evaluate((el) => el.classList.contains('streaming')), { timeout: 10_000 })
      .toBe(false);
    expect(await answer.textContent()).toBe('Echo: the retried answer');
    expect(await answer.locator('strong').textContent()).toBe('retried');
    await page.context().close();
  });

  it('Stop cancels the streaming run: the answer keeps what was written, marked as stopped', async () => {
    const page = await chat.openChat();
    const words = Array.from({ length: 120 }, (_, i) => `word${i}`).join(' ');
    await send(page, `[[drip:250]] ${words}`);
    // What the page shows, read without waiting (a locator's textContent waits 30 s for an element that may
    // never come): a failing poll names what was on screen instead of timing the whole test out.
    const answer = page.locator('.msg-ai').last();
    const shown = async () => ({
      stop: await page.locator('#stop').isVisible(),
      streaming: (await page.locator('.msg-ai.streaming').allTextContents()).join(''),
      stopped: await answer.locator('em').allTextContents(),
      status: (await page.locator('#status').allTextContents()).join(''),
    });
    await expect
      .poll(shown, { timeout: 10_000 })
      .toMatchObject({ stop: true, streaming: expect.stringMatching(/word\d/) });
    const asked = Date.now();
    await page.click('#stop', { timeout: 5_000 });
    await expect.poll(shown, { timeout: 5_000 }).toMatchObject({ stopped: ['(stopped)'] });
    expect(Date.now() - asked).toBeLessThan(3_000);
    expect(await answer.textContent()).not.toContain('word119');
    expect(await page.locator('#stop').isVisible()).toBe(false);
    await expect.poll(() => page.locator('#send').isDisabled()).toBe(false); // ready for the next message
    // The model call was aborted on the server: the turn committed the partial answer, marked as stopped.
    const threadId = new URL(page.url()).hash.slice(1);
    const committed = async () => {
      const state = await chat.app
        .client(chat.key)
        .threads.getState<{ messages: { type: string; content: string }[] }>(threadId);
      return state.values.messages.at(-1);
    };
    await expect
      .poll(committed, { timeout: 10_000 })
      .toMatchObject({ type: 'ai', content: expect.stringMatching(/_\(stopped\)_$/) });
    expect((await committed())!.content).not.toContain('word119');
    await page.context().close();
  });
});
