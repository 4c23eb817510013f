/**
 * Markdown -> MarkdownV2, checked against the strict parser of the fake Bot API (an independent reading of
 * Telegram's rules): every rendered part must parse, and what a client would show must be the original text.
 */
import { describe, expect, it } from 'vitest';
import { markdownToV2, renderTelegram, toPlainText } from '../../../adapters/telegram/format.js';
import { escapeCode, escapeText, escapeUrl } from '../../../adapters/telegram/markdownv2.js';
import { MARKDOWN_V2_RESERVED, parseMarkdownV2 } from '../../fakes/telegram/markdownv2.js';

/** Backslash-escape markdown punctuation so `marked` takes every character literally. */
const literalMarkdown = (s: string) => s.replace(/[\\`*_{}[\]()#+\-.!|~>=<&]/g, '\\$&');

describe('escaping', () => {
  it('escapes every reserved character in text, and only ` and \\ in code, ) and \\ in urls', () => {
    expect(escapeText(MARKDOWN_V2_RESERVED)).toBe(
      MARKDOWN_V2_RESERVED.split('')
        .map((c) => `\\${c}`)
        .join(''),
    );
    expect(escapeText('plain words, ok? yes: 100% "quoted" @user $5')).toBe(
      'plain words, ok? yes: 100% "quoted" @user $5',
    );
    expect(escapeCode('a_b*c[d](e)~`f`\\g.')).toBe('a_b*c[d](e)~\\`f\\`\\\\g.');
    expect(escapeUrl('https://x.y/a_(b)\\c')).toBe('https://x.y/a_(b\\)\\\\c');
  });

  it('the fake refuses each reserved character left unescaped, so escaping is really checked', () => {
    for (const c of '#+-={}.!)>'.split('')) {
      expect(() => parseMarkdownV2(`x ${c} y`), c).toThrow(/reserved|Can't find end/);
    }
    expect(() => parseMarkdownV2('*open bold')).toThrow(/Can't find end of Bold/);
  });
});

describe('markdownToV2', () => {
  it('special characters in text arrive intact', () => {
    const original = 'Price: 1.5! (approx) [draft] a_b*c ~x~ `tick` > #tag +1 -1 =2 |pipe| {braces} back\\slash. Done!';
    const v2 = markdownToV2(literalMarkdown(original));
    expect(parseMarkdownV2(v2).text).toBe(original);
    expect(toPlainText(v2)).toBe(original);
  });

  it('every reserved character, alone and in runs, survives a round trip', () => {
    for (const c of MARKDOWN_V2_RESERVED) {
      const original = `a ${c} b ${c}${c}${c} c${c}d`;
      const v2 = markdownToV2(literalMarkdown(original));
      expect(parseMarkdownV2(v2).text, JSON.stringify(c)).toBe(original);
    }
  });

  it('renders bold, italic, strike, inline code, links, headings, lists and quotes as Telegram entities', () => {
    const md = [
      '# Title with **bold**',
      '',
      'Some **bold**, *italic*, ~~gone~~, `a_b*c` and [the docs](https://example.com/a_(b)c).',
      '',
      '- first',
      '- second',
      '',
      '3. three',
      '4. four',
      '',
      '> quoted *line*',
      '> second line',
    ].join('\n');
    const v2 = markdownToV2(md);
    const { text, entities } = parseMarkdownV2(v2);
    expect(text).toBe(
      [
        'Title with bold',
        '',
        'Some bold, italic, gone, a_b*c and the docs.',
        '',
        '• first',
        '• second',
        '',
        '3. three',
        '4. four',
        '',
        'quoted line',
        'second line',
      ].join('\n'),
    );
    const types = entities.map((e) => e.type);
    expect(types).toEqual(
      expect.arrayContaining(['bold', 'italic', 'strikethrough', 'code', 'text_link', 'blockquote']),
    );
    expect(entities.find((e) => e.type === 'text_link')!.url).toBe('https://example.com/a_(b)c');
    const heading = entities.find((e) => e.type === 'bold')!;
    expect(text.slice(heading.offset, heading.offset + heading.length)).toBe('Title with bold');
  });

  it('keeps code blocks verbatim, with their language', () => {
    const code = 'x = a_b * (c) [d] {e} ~f~ `g` \\h # + - = | . !\nprint("done")';
    const v2 = markdownToV2('Run:\n\n```python\n' + code + '\n```');
    const { text, entities } = parseMarkdownV2(v2);
    const pre = entities.find((e) => e.type === 'pre')!;
    expect(pre.language).toBe('python');
    expect(text.slice(pre.offset, pre.offset + pre.length).replace(/\n$/, '')).toBe(code);
  });

  it('links Telegram cannot open stay readable text; bare urls stay bare', () => {
    const v2 = markdownToV2('Mail [me](mailto:a@b.c) or see https://example.com/x_y.');
    const parsed = parseMarkdownV2(v2);
    expect(parsed.text).toBe('Mail me (mailto:a@b.c) or see https://example.com/x_y.');
    expect(parsed.entities.filter((e) => e.type === 'text_link')).toEqual([]);
  });

  it('an empty link `[]()` (what a user typing the reserved characters in a row sends) is kept as written', () => {
    // marked reads `[]()` as a link with no text and no target; dropping it lost four of the user's characters.
    const original = 'specials _*[]()~`>#+-=|{}.! end';
    const v2 = markdownToV2(original);
    expect(parseMarkdownV2(v2).text).toBe(original);
    expect(toPlainText(v2)).toBe(original);
    // With a target or a text it is still a link (or readable text with the target).
    expect(parseMarkdownV2(markdownToV2('see [](https://example.com/a)')).text).toBe('see https://example.com/a');
  });

  it('adjacent italics do not turn into underline', () => {
    const { entities, text } = parseMarkdownV2(markdownToV2('_a_*b*'));
    expect(text).toBe('ab');
    expect(entities.map((e) => e.type)).toEqual(['italic', 'italic']);
  });

  it('tables become a monospaced block; character references are decoded', () => {
    const { text, entities } = parseMarkdownV2(markdownToV2('| a | b |\n|---|---|\n| 1 | x_y |\n\nTom &amp; Jerry'));
    expect(entities[0]!.type).toBe('pre');
    expect(text).toContain('a | b');
    expect(text).toContain('1 | x_y');
    expect(text).toContain('Tom & Jerry');
  });
});

describe('renderTelegram: splitting', () => {
  it('splits a long message with code within 4,096, fences balanced, nothing lost', () => {
    const prose = Array.from(
      { length: 40 },
      (_, i) => `Paragraph ${i} explains step ${i}. It costs 1.5! (see #${i})`,
    ).join('\n\n');
    const codeLines = Array.from(
      { length: 400 },
      (_, i) => `const v${i} = call_${i}(a[${i}], "x.y") * 2; // line ${i}`,
    );
    const md = `${prose}\n\n\`\`\`ts\n${codeLines.join('\n')}\n\`\`\`\n\nThe end.`;
    const parts = renderTelegram(md);
    expect(parts.length).toBeGreaterThan(3);
    const shown: string[] = [];
    for (const part of parts) {
      expect(part.length).toBeLessThanOrEqual(4096);
      expect(part.split('\n').filter((l) => l.startsWith('```')).length % 2).toBe(0);
      shown.push(parseMarkdownV2(part).text);
    }
    const all = shown.join('\n');
    const gotCode = all.split('\n').filter((l) => l.startsWith('const v'));
    expect(gotCode).toEqual(codeLines);
    for (let i = 0; i < 40; i++) expect(all).toContain(`Paragraph ${i} explains step ${i}. It costs 1.5! (see #${i})`);
    expect(all.trim().endsWith('The end.')).toBe(true);
  });

  it('an entity cut by a split is closed and reopened, so every part still parses', () => {
    const words = Array.from({ length: 1500 }, (_, i) => `w${i}.`).join(' ');
    const parts = renderTelegram(`Intro **${words}** and \`${words}\` outro`);
    expect(parts.length).toBeGreaterThan(2);
    const texts = parts.map((p) => {
      expect(p.length).toBeLessThanOrEqual(4096);
      return parseMarkdownV2(p).text;
    });
    const joined = texts.join(' ').split(/\s+/);
    expect(joined.filter((w) => /^w\d+\.$/.test(w))).toEqual([...words.split(' '), ...words.split(' ')]);
  });

  it('a hard cut never separates an escape from its character', () => {
    // No spaces, and an odd offset: the hard cut falls between a backslash and the dot it escapes.
    const dots = 'x' + '.'.repeat(6000);
    const parts = renderTelegram(dots);
    expect(parts.length).toBe(3);
    expect(parts.map((p) => parseMarkdownV2(p).text).join('')).toBe(dots);
  });

  it('toPlainText of a part equals what Telegram shows, minus link targets kept for the reader', () => {
    const parts = renderTelegram('**Bold** _it_ `code_x` ~~s~~\n\n> q\n\n```js\nlet a = `b`;\n```');
    for (const p of parts) expect(toPlainText(p)).toBe(parseMarkdownV2(p).text.trim());
    expect(toPlainText(markdownToV2('[docs](https://example.com/a)'))).toBe('docs (https://example.com/a)');
  });
});
