/**
 * Formatting and splitting of model output stay linear on every platform: about 1 MB of adversarial text (see
 * adversarial-text.ts) renders and splits within 2 s of CPU each (most cases take tens of milliseconds; 250,000
 * one-line headings take about 1.2 s on Slack and Telegram, linear but heavy per token; a quadratic path takes
 * minutes), and the result is still valid:
 * every part within the platform's limit, Telegram parts valid MarkdownV2, and the text's letters delivered.
 * CPU time rather than wall time, since tests share the machine; a slow run is retried once before it fails.
 */
import { describe, expect, it } from 'vitest';
import { renderDiscord } from '../../adapters/discord/format.js';
import { DISCORD_MAX_MESSAGE_CHARS } from '../../adapters/discord/limits.js';
import { LOCAL_LIMITS } from '../../adapters/local/limits.js';
import { renderSlack } from '../../adapters/slack/format.js';
import { SLACK_MAX_MESSAGE_CHARS } from '../../adapters/slack/limits.js';
import { renderTelegram } from '../../adapters/telegram/format.js';
import { MAX_MESSAGE_CHARS as TELEGRAM_MAX } from '../../adapters/telegram/limits.js';
import { createApiAdapter } from '../../src/api/adapter.js';
import { splitMessage } from '../../adapters/kit/split.js';
import { parseMarkdownV2 } from '../fakes/telegram/markdownv2.js';
import { ADVERSARIAL, PRESERVED } from './adversarial-text.js';

const BUDGET_CPU_MS = 2_000;

const api = createApiAdapter();
const PLATFORMS: Array<{ name: string; limit: number; render(md: string): string[]; check?(part: string): void }> = [
  {
    name: 'local',
    limit: LOCAL_LIMITS.maxMessageChars,
    render: (md) => splitMessage(md, LOCAL_LIMITS.maxMessageChars),
  },
  { name: 'slack', limit: SLACK_MAX_MESSAGE_CHARS, render: (md) => renderSlack(md) },
  { name: 'discord', limit: DISCORD_MAX_MESSAGE_CHARS, render: (md) => renderDiscord(md) },
  {
    name: 'telegram',
    limit: TELEGRAM_MAX,
    render: (md) => renderTelegram(md),
    check: (part) => void parseMarkdownV2(part),
  },
  { name: 'api', limit: 1_000_000, render: (md) => api.render(md) as string[] },
];

function cpuMs<T>(f: () => T): { value: T; ms: number } {
  const start = process.cpuUsage();
  const value = f();
  const used = process.cpuUsage(start);
  return { value, ms: (used.user + used.system) / 1000 };
}

/** Letters and digits of `input` appear in `output` in the same order (escapes and markup may sit between). */
function lettersKept(input: string, output: string): boolean {
  const word = /[\p{L}\p{N}]/u;
  let j = 0;
  for (const ch of input) {
    if (!word.test(ch)) continue;
    j = output.indexOf(ch, j);
    if (j < 0) return false;
    j += ch.length;
  }
  return true;
}

describe.each(PLATFORMS)('$name: render + split of 1 MB adversarial model output', (p) => {
  it.each(Object.keys(ADVERSARIAL))('%s: linear, every part within the limit, text kept', (name) => {
    const input = ADVERSARIAL[name]!;
    let run = cpuMs(() => p.render(input));
    if (run.ms > BUDGET_CPU_MS) run = cpuMs(() => p.render(input)); // one retry: a busy machine's CPU time varies too
    expect(run.ms, `${p.name} took ${Math.round(run.ms)} ms of CPU on "${name}"`).toBeLessThan(BUDGET_CPU_MS);
    const parts = run.value;
    const over = parts.filter((part) => part.length > p.limit).map((part) => part.length);
    expect(over, 'parts over the platform limit').toEqual([]);
    for (const part of parts) p.check?.(part);
    if (PRESERVED.has(name)) {
      expect(parts.length, 'a non-empty answer renders to at least one part').toBeGreaterThan(0);
      expect(lettersKept(input, parts.join('\n')), 'the letters and digits of the answer are delivered, in order').toBe(
        true,
      );
    }
  });
});
