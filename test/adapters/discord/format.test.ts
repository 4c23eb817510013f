import { describe, expect, it } from 'vitest';
import { renderDiscord, toDiscordMarkdown } from '../../../adapters/discord/format.js';

const FENCE = /^\s*```/;

describe('discord format', () => {
  it('passes markdown Discord renders through unchanged', () => {
    const md =
      '## Plan\n\n**bold** _it_ ~~gone~~ `x` [link](https://example.com)\n\n- a\n- b\n\n> quote\n\n```ts\nconst a = 1;\n```';
    expect(toDiscordMarkdown(md)).toBe(md);
  });

  it('draws tables as aligned columns in a code block', () => {
    const out = toDiscordMarkdown('Before\n\n| name | qty |\n|---|--:|\n| apple | 3 |\n| **kiwi** | 12 |\n\nAfter');
    expect(out).toContain('```\nname  | qty\n------|----\napple |   3\nkiwi  |  12\n```');
    expect(out).not.toContain('|---|');
    expect(out.startsWith('Before\n\n')).toBe(true);
    expect(out.endsWith('\n\nAfter')).toBe(true);
  });

  it('rewrites headings Discord cannot show, images and rules', () => {
    expect(toDiscordMarkdown('#### Deep\n\ntext')).toBe('**Deep**\n\ntext');
    expect(toDiscordMarkdown('Title\n=====\n\ntext')).toBe('# Title\n\ntext');
    expect(toDiscordMarkdown('see ![chart](https://x.test/c.png) here')).toBe('see [chart](https://x.test/c.png) here');
    expect(toDiscordMarkdown('a\n\n---\n\nb')).not.toContain('---');
  });

  it('splits a long reply into parts of at most 2,000 characters, fences balanced, nothing lost', () => {
    const prose = Array.from(
      { length: 40 },
      (_, i) => `Paragraph ${i}: ${'lorem ipsum dolor sit amet '.repeat(4)}`,
    ).join('\n\n');
    const code =
      '```python\n' +
      Array.from({ length: 120 }, (_, i) => `print("line ${i}")  # ${'x'.repeat(20)}`).join('\n') +
      '\n```';
    const md = `${prose}\n\n${code}\n\nThe end.`;
    const parts = renderDiscord(md);
    expect(parts.length).toBeGreaterThan(3);
    for (const p of parts) {
      expect(p.length).toBeLessThanOrEqual(2000);
      expect(p.split('\n').filter((l) => FENCE.test(l)).length % 2).toBe(0);
    }
    const content = (s: string) => s.split('\n').filter((l) => l.trim() && !FENCE.test(l));
    expect(parts.flatMap(content)).toEqual(content(md));
  });

  it('returns no parts for empty text and one part for short text', () => {
    expect(renderDiscord('')).toEqual([]);
    expect(renderDiscord('hi')).toEqual(['hi']);
  });
});
