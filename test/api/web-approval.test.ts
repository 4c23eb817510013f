/**
 * Approvals in the web chat, in a real headless Chromium against the real gateway: a message whose agent calls a
 * tool that needs approval shows the prompt with Approve / Reject (also after reloading the thread), a click
 * resumes the run through the agent API (command.resume), and the final answer takes the prompt's place.
 * The prompt's screenshot is the README's (docs/web-chat-approval.png; written there with DOCS_SCREENSHOTS=1).
 */
import { copyFile } from 'node:fs/promises';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { approvals } from '../../src/approvals/schema.js';
import { ARTIFACTS, chromiumGate, useWebChat } from './browser.js';

const FORGET_ALL = 'Forget everything you know about me [[tool:forget {"memory":"all"}]]';

describe.skipIf(chromiumGate.skip)('web chat approvals in headless Chromium', () => {
  const chat = useWebChat('web-approval', 620);

  async function approvalStatus(id: string): Promise<string | undefined> {
    const [row] = await chat.app.database.db.select().from(approvals).where(eq(approvals.id, id));
    return row?.status;
  }

  it('shows Approve / Reject for a tool waiting for approval, also after a reload; Approve runs it and the answer replaces the prompt', async () => {
    const page = await chat.openChat();
    await page.fill('#input', FORGET_ALL);
    await page.press('#input', 'Enter');
    const prompt = page.locator('.msg-approval');
    await expect.poll(() => prompt.count(), { timeout: 15_000 }).toBe(1);
    expect(await prompt.locator('code').first().textContent()).toBe('forget');
    expect(await prompt.locator('pre').textContent()).toContain('"memory": "all"');
    expect(await prompt.locator('button').allTextContents()).toEqual(['Approve', 'Reject']);
    const id = (await prompt.getAttribute('data-approval'))!;
    expect(await approvalStatus(id)).toBe('pending');
    const shot = path.join(ARTIFACTS, 'web-chat-approval.png');
    await page.screenshot({ path: shot });
    if (process.env.DOCS_SCREENSHOTS === '1') await copyFile(shot, path.resolve('docs/web-chat-approval.png'));

    // Reloading the thread shows the same prompt (from the thread state's interrupts).
    await page.reload();
    await expect.poll(() => page.locator('.msg-approval').count(), { timeout: 15_000 }).toBe(1);
    expect(await page.locator('.msg-approval').getAttribute('data-approval')).toBe(id);

    await page.locator('.msg-approval button', { hasText: 'Approve' }).click();
    const last = page.locator('.msg-ai').last();
    await expect.poll(() => last.textContent(), { timeout: 15_000 }).toMatch(/^Tool forget said: /);
    expect(await page.locator('.msg-approval').count()).toBe(0);
    expect(await approvalStatus(id)).toBe('approved');
    expect(await page.locator('#status').textContent()).toBe('');

    // The decision is durable: the reloaded thread shows the answer and no prompt.
    await page.reload();
    await expect
      .poll(() => page.locator('.msg-ai').last().textContent(), { timeout: 15_000 })
      .toMatch(/^Tool forget said: /);
    expect(await page.locator('.msg-approval').count()).toBe(0);
    await page.context().close();
  });

  it('Reject tells the model no; the prompt is gone', async () => {
    const page = await chat.openChat();
    await page.click('#new-chat');
    await page.fill('#input', FORGET_ALL);
    await page.press('#input', 'Enter');
    await expect.poll(() => page.locator('.msg-approval').count(), { timeout: 15_000 }).toBe(1);
    const id = (await page.locator('.msg-approval').getAttribute('data-approval'))!;
    await page.locator('.msg-approval button', { hasText: 'Reject' }).click();
    await expect
      .poll(() => page.locator('.msg-ai').last().textContent(), { timeout: 15_000 })
      .toMatch(/rejected this tool call/);
    expect(await page.locator('.msg-approval').count()).toBe(0);
    expect(await approvalStatus(id)).toBe('rejected');
    await page.context().close();
  });
});
