import { describe, expect, it } from 'vitest';
import { markdownToMrkdwn, renderSlack } from '../../../adapters/slack/format.js';
import { SLACK_MAX_MESSAGE_CHARS } from '../../../adapters/slack/limits.js';

describe('markdown -> slack mrkdwn', () => {
  it('links, bold, italic, strike and inline code', () => {
    expect(markdownToMrkdwn('See [the docs](https://example.com/a?b=1&c=2) and https://auto.example.com now')).toBe(
      'See <https://example.com/a?b=1&amp;c=2|the docs> and <https://auto.example.com> now',
    );
    expect(markdownToMrkdwn('**bold**, __also bold__, *it*, _it2_, ~~gone~~ and `a < b`')).toBe(
      '*bold*, *also bold*, _it_, _it2_, ~gone~ and `a &lt; b`',
    );
  });

  it('escapes &, < and > in text so nothing is read as a Slack control sequence', () => {
    expect(markdownToMrkdwn('Tom & Jerry <@U123> <!channel> 1 > 0')).toBe(
      'Tom &amp; Jerry &lt;@U123&gt; &lt;!channel&gt; 1 &gt; 0',
    );
    expect(markdownToMrkdwn('already &amp; encoded')).toBe('already &amp; encoded');
  });

  it('headings become bold lines, without nested markers breaking them', () => {
    expect(markdownToMrkdwn('# Plan for **today**\n\nbody')).toBe('*Plan for today*\n\nbody');
  });

  it('lists: bullets, numbers and nesting', () => {
    const md = '- apples\n- pears\n  - green *ones*\n    - tiny\n\n3. third\n4. fourth';
    expect(markdownToMrkdwn(md)).toBe(
      ['• apples', '• pears', '    ◦ green _ones_', '        ▪ tiny', '', '3. third', '4. fourth'].join('\n'),
    );
  });

  it('fenced code blocks keep their content verbatim (escaped) and drop the language tag', () => {
    const md = 'Run:\n\n```ts\nif (a < b && c > d) {\n  console.log("**not bold**");\n}\n```';
    expect(markdownToMrkdwn(md)).toBe(
      'Run:\n\n```\nif (a &lt; b &amp;&amp; c &gt; d) {\n  console.log("**not bold**");\n}\n```',
    );
  });

  it('blockquotes, rules and tables', () => {
    expect(markdownToMrkdwn('> quoted **words**\n> more')).toBe('> quoted *words*\n> more');
    expect(markdownToMrkdwn('| name | qty |\n|---|---|\n| apple | 10 |')).toBe(
      '```\nname  | qty\n------|----\napple | 10\n```',
    );
  });
});

describe('render: split at the Slack limit', () => {
  it('splits a 10,000-character reply with a code block into parts within the limit, fences balanced, nothing lost', () => {
    const prose = Array.from({ length: 40 }, (_, i) => `Paragraph ${i} says something useful about step ${i}.`).join(
      '\n\n',
    );
    const code = Array.from({ length: 230 }, (_, i) => `const value${i} = compute(${i}); // line ${i}`).join('\n');
    const md = `${prose}\n\n\`\`\`js\n${code}\n\`\`\`\n\nThe end & goodbye.`;
    expect(md.length).toBeGreaterThan(10_000);

    const parts = renderSlack(md);
    expect(parts.length).toBeGreaterThan(2);
    // The code block alone is over the limit, so it must have been cut and re-fenced.
    expect(parts.filter((p) => p.includes('```')).length).toBeGreaterThanOrEqual(2);
    for (const p of parts) {
      expect(p.length).toBeLessThanOrEqual(SLACK_MAX_MESSAGE_CHARS);
      const fences = p.split('\n').filter((l) => l.trim().startsWith('```')).length;
      expect(fences % 2).toBe(0);
    }
    const joined = parts.join('\n');
    for (let i = 0; i < 230; i++) expect(joined).toContain(`const value${i} = compute(${i}); // line ${i}`);
    for (let i = 0; i < 40; i++) expect(joined).toContain(`Paragraph ${i} says something useful about step ${i}.`);
    expect(parts.at(-1)).toContain('The end &amp; goodbye.');
    // Every code line is still inside a code block in the part that carries it.
    for (const p of parts) {
      let inCode = false;
      for (const line of p.split('\n')) {
        if (line.startsWith('```')) inCode = !inCode;
        else if (line.startsWith('const value')) expect(inCode).toBe(true);
      }
    }
  });

  it('a short reply is one part', () => {
    expect(renderSlack('hello **world**')).toEqual(['hello *world*']);
  });
});
