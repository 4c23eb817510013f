import { describe, expect, it } from 'vitest';
import { splitMessage } from '../../../adapters/kit/split.js';

const strip = (s: string) => s.replace(/```\w*\n?/g, '').replace(/\s+/g, '');

describe('splitMessage', () => {
  it('returns short text as one part and empty text as none', () => {
    expect(splitMessage('hello', 100)).toEqual(['hello']);
    expect(splitMessage('', 100)).toEqual([]);
  });

  it('breaks between paragraphs before breaking lines', () => {
    const a = 'a'.repeat(60);
    const b = 'b'.repeat(60);
    expect(splitMessage(`${a}\n\n${b}`, 100)).toEqual([a, b]);
  });

  it('re-fences a code block that must be broken, keeping its language, and loses nothing', () => {
    const code = '```python\n' + Array.from({ length: 80 }, (_, i) => `print(${i})  # line ${i}`).join('\n') + '\n```';
    const text = `Intro.\n\n${code}\n\nOutro.`;
    const parts = splitMessage(text, 500);
    expect(parts.length).toBeGreaterThan(3);
    for (const p of parts) {
      expect(p.length).toBeLessThanOrEqual(500);
      expect((p.match(/```/g) ?? []).length % 2).toBe(0);
    }
    expect(parts.filter((p) => p.includes('print(')).every((p) => p.includes('```python'))).toBe(true);
    expect(strip(parts.join(''))).toBe(strip(text));
  });

  it('breaks a single long line at spaces, and hard only when there are none', () => {
    const words = Array.from({ length: 100 }, (_, i) => `word${i}`).join(' ');
    const parts = splitMessage(words, 80);
    expect(parts.every((p) => p.length <= 80 && !p.startsWith(' '))).toBe(true);
    expect(parts.join(' ')).toBe(words);
    const blob = 'x'.repeat(250);
    expect(splitMessage(blob, 100)).toEqual(['x'.repeat(100), 'x'.repeat(100), 'x'.repeat(50)]);
  });

  it('never splits a surrogate pair', () => {
    const text = '😀'.repeat(120); // 240 UTF-16 units, no spaces
    const parts = splitMessage(text, 101);
    expect(parts.join('')).toBe(text);
    for (const p of parts) expect(p).not.toMatch(/[\ud800-\udbff]$/);
  });

  it('keeps an unclosed fence as code to the end', () => {
    const text = 'before\n\n```js\n' + 'let a = 1;\n'.repeat(30);
    const parts = splitMessage(text, 120);
    expect(strip(parts.join(''))).toBe(strip(text));
  });
});
