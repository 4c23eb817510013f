/**
 * Adversarial model output, about 1 MB each: what a model (or a user quoting one) can produce that makes naive
 * formatting quadratic: whitespace and newline runs, unclosed fences, thousands of markup characters, deep lists
 * and quotes, long lines without spaces, every platform's escape characters.
 */
const MB = 1024 * 1024;
const fill = (unit: string, size = MB) => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);

export const ADVERSARIAL: Record<string, string> = {
  spaces: 'a' + fill(' ') + 'b',
  'trailing spaces': 'answer' + fill(' '),
  newlines: 'a' + fill('\n') + 'b',
  'trailing newlines': 'answer' + fill('\n'),
  'space-newline runs': fill(' \n \t\n'),
  'whitespace-heavy paragraphs': fill('word' + ' '.repeat(40) + '\n'.repeat(20)),
  'unclosed fence': '```\n' + fill('code line\n'),
  'many fences': fill('```\n'),
  'fences with spaces': fill('```js   \n  x  \n'),
  stars: fill('*'),
  underscores: fill('_'),
  backticks: fill('`'),
  tildes: fill('~'),
  'emphasis openers': fill('*a _b `c ~d '),
  'bold openers': fill('**a '),
  'deep list': fill(Array.from({ length: 60 }, (_, i) => '  '.repeat(i) + '- item').join('\n') + '\n'),
  'list markers': fill('- '),
  'deep quote': fill('>'),
  'quote lines': fill('> > > > x\n'),
  'no spaces': fill('x'),
  'no spaces with emoji': fill('😀x'),
  'telegram escapes': fill('_*[]()~`>#+-=|{}.!\\'),
  'slack escapes': fill('&<>&amp;&lt;'),
  links: fill('[a](http://x.y/'),
  brackets: fill('['),
  entities: fill('&#x'),
  html: fill('<b>'),
  'table rows': '| a | b |\n|---|---|\n' + fill('| x | y |\n'),
  headings: fill('# h\n'),
  mixed: fill('**bold** _it_ `code` ~~s~~ [l](http://e.x) > q\n- a\n  - b\n```py\nx = 1\n'),
};

/** Cases whose letters and digits every platform must deliver (elsewhere markup may legitimately eat text: `***` is a rule). */
export const PRESERVED = new Set([
  'spaces',
  'trailing spaces',
  'newlines',
  'trailing newlines',
  'whitespace-heavy paragraphs',
  'unclosed fence',
  'no spaces',
  'no spaces with emoji',
  'deep list',
  'quote lines',
  'telegram escapes',
  'headings',
  'table rows',
  'emphasis openers',
  'bold openers',
]);
