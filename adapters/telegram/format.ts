/**
 * Model markdown -> Telegram MarkdownV2, walking `marked`'s Lexer tokens (the one markdown parser of the project),
 * then split into parts within Telegram's limit. Every character of the input that is not markup reaches the
 * reader: everything is escaped per context, and constructs Telegram lacks are rendered as plain equivalents:
 * headings as bold, lists as `•` / `1.` lines, tables as a monospaced block, rules as a line of box characters.
 */
import { Lexer, type Token, type Tokens } from 'marked';
import { renderInChunks, splitMessage } from '../kit/split.js';
import { MAX_MESSAGE_CHARS } from './limits.js';
import { balanceParts, escapeCode, escapeText, escapeUrl } from './markdownv2.js';

export { toPlainText } from './markdownv2.js';

/** Room kept free in each part for the markers balanceParts may add when a split cuts an entity. */
const BALANCE_ROOM = 16;

/** Entity styles already open: Telegram cannot nest an entity inside one of the same kind. */
interface Style {
  bold?: boolean;
  italic?: boolean;
  strike?: boolean;
  link?: boolean;
}

/** A rendered block; `pre` blocks are kept out of blockquote prefixes (a `>` inside code would become code). */
interface Block {
  text: string;
  pre?: boolean;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

/** marked leaves character references in text as written; the reader should see the character. */
function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (m, name: string) => {
    if (name[0] === '#') {
      const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : m;
    }
    return ENTITIES[name.toLowerCase()] ?? m;
  });
}

/** Telegram accepts http(s) and tg:// links; anything else (mailto:, relative paths) is shown as text. */
const LINKABLE = /^(https?:\/\/|tg:\/\/)\S+$/i;

function wrap(marker: string, inner: string, already: boolean | undefined): string {
  return already || inner === '' ? inner : `${marker}${inner}${marker}`;
}

function renderLink(href: string, textTokens: Token[], st: Style, autolink: boolean, raw: string): string {
  const text = inline(textTokens, { ...st, link: true });
  const url = autolink ? href : decodeEntities(href);
  // `[]()` links nothing and shows nothing: keep the characters as written rather than drop them.
  if (text === '' && url === '') return escapeText(raw);
  if (st.link) return text;
  // Bare URLs are linked by Telegram itself; a [url](url) entity would only add escaping.
  if (autolink || plainInline(textTokens) === url) return escapeText(url);
  if (!LINKABLE.test(url)) return `${text} \\(${escapeText(url)}\\)`;
  return `[${text || escapeText(url)}](${escapeUrl(url)})`;
}

function inline(tokens: Token[], st: Style = {}): string {
  let out = '';
  let prevItalic = false;
  for (const t of tokens) {
    let piece: string;
    let italic = false;
    switch (t.type) {
      case 'text':
        piece = t.tokens?.length ? inline(t.tokens, st) : escapeText(decodeEntities(t.text as string));
        break;
      case 'escape':
        piece = escapeText(t.text as string);
        break;
      case 'codespan':
        piece = t.text ? '`' + escapeCode(t.text as string) + '`' : '';
        break;
      case 'strong':
        piece = wrap('*', inline(t.tokens ?? [], { ...st, bold: true }), st.bold);
        break;
      case 'em':
        piece = wrap('_', inline(t.tokens ?? [], { ...st, italic: true }), st.italic);
        italic = !st.italic && piece !== '';
        break;
      case 'del':
        piece = wrap('~', inline(t.tokens ?? [], { ...st, strike: true }), st.strike);
        break;
      case 'link':
        piece = renderLink(t.href as string, t.tokens ?? [], st, Boolean(t.autolink), t.raw);
        break;
      case 'image':
        piece = renderLink(
          t.href as string,
          t.tokens?.length ? t.tokens : [{ type: 'text', raw: '', text: 'image' }],
          st,
          false,
          t.raw,
        );
        break;
      case 'br':
        piece = '\n';
        break;
      case 'html':
        piece = escapeText(t.text as string);
        break;
      default: {
        const g = t as Tokens.Generic;
        piece = g.tokens ? inline(g.tokens, st) : escapeText(g.raw ?? '');
      }
    }
    // `_a_` next to `_b_` would read as `__` (underline): Telegram's documented separator is \r, which it drops.
    if (italic && prevItalic) out += '\r';
    out += piece;
    prevItalic = italic;
  }
  return out;
}

/** Text without any markup, for table cells (rendered inside a code block). */
function plainInline(tokens: Token[]): string {
  return tokens
    .map((t) => {
      const g = t as Tokens.Generic;
      if (t.type === 'br') return ' ';
      if (g.tokens?.length) return plainInline(g.tokens);
      if (t.type === 'text') return decodeEntities(t.text);
      return typeof g.text === 'string' ? g.text : '';
    })
    .join('');
}

function codeBlock(text: string, lang?: string): string {
  // The language tag is read up to the line end; keep it to characters no client chokes on.
  const l = lang && /^[A-Za-z0-9_+-]{1,32}$/.test(lang) ? lang : '';
  return '```' + l + '\n' + escapeCode(text) + '\n```';
}

function list(t: Tokens.List, depth: number): string {
  const pad = '  '.repeat(depth);
  let n = typeof t.start === 'number' ? t.start : 1;
  const lines: string[] = [];
  for (const item of t.items) {
    const bullet = t.ordered ? `${n++}\\.` : '•';
    const box = item.task ? (item.checked ? '☑ ' : '☐ ') : '';
    const body = blocks(
      item.tokens.filter((x) => x.type !== 'checkbox'),
      depth + 1,
    )
      .map((b) => b.text)
      .join(item.loose ? '\n\n' : '\n');
    lines.push(`${pad}${bullet} ${box}${body}`);
  }
  return lines.join('\n');
}

function table(t: Tokens.Table): string {
  const rows = [t.header.map((c) => plainInline(c.tokens)), ...t.rows.map((r) => r.map((c) => plainInline(c.tokens)))];
  const widths = t.header.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join(' | ')
      .trimEnd();
  const lines = [fmt(rows[0]!), widths.map((w) => '-'.repeat(w)).join('-+-'), ...rows.slice(1).map(fmt)];
  return codeBlock(lines.join('\n'));
}

function quote(t: Tokens.Blockquote, depth: number, inQuote: boolean): Block[] {
  const inner = blocks(t.tokens, depth, true);
  // Telegram has no nested quotes: an inner quote joins the outer one.
  if (inQuote) return inner;
  const out: Block[] = [];
  for (const b of inner) {
    if (b.pre) out.push(b);
    else
      out.push({
        text: b.text
          .split('\n')
          .map((l) => `>${l}`)
          .join('\n'),
      });
  }
  // Consecutive quoted paragraphs stay one quote: join them with a quoted empty line.
  return out.reduce<Block[]>((acc, b) => {
    const prev = acc[acc.length - 1];
    if (prev && !prev.pre && !b.pre) prev.text += '\n>\n' + b.text;
    else acc.push({ ...b });
    return acc;
  }, []);
}

function blocks(tokens: Token[], depth = 0, inQuote = false): Block[] {
  const out: Block[] = [];
  for (const t of tokens) {
    switch (t.type) {
      case 'space':
      case 'def':
        break;
      case 'paragraph':
        out.push({ text: inline(t.tokens ?? []) });
        break;
      case 'text':
        out.push({ text: t.tokens?.length ? inline(t.tokens) : escapeText(decodeEntities(t.text as string)) });
        break;
      case 'heading': {
        const text = wrap('*', inline(t.tokens ?? [], { bold: true }), false);
        if (text) out.push({ text });
        break;
      }
      case 'code':
        out.push({ text: codeBlock(t.text as string, t.lang as string | undefined), pre: true });
        break;
      case 'blockquote':
        out.push(...quote(t as Tokens.Blockquote, depth, inQuote));
        break;
      case 'list':
        out.push({ text: list(t as Tokens.List, depth) });
        break;
      case 'table':
        out.push({ text: table(t as Tokens.Table), pre: true });
        break;
      case 'hr':
        out.push({ text: '──────────' });
        break;
      case 'html':
        out.push({ text: escapeText((t.text as string).trim()) });
        break;
      default: {
        const g = t as Tokens.Generic;
        if (g.tokens?.length) out.push(...blocks(g.tokens, depth, inQuote));
        else if (g.raw?.trim()) out.push({ text: escapeText(g.raw.trim()) });
      }
    }
  }
  return out.filter((b) => b.text !== '');
}

/** The whole message as one MarkdownV2 string (may exceed the limit; see renderTelegram). */
export function markdownToV2(markdown: string): string {
  const tokens = new Lexer({ gfm: true }).lex(markdown.replace(/\r\n?/g, '\n'));
  return blocks(tokens)
    .map((b) => b.text)
    .join('\n\n');
}

/**
 * Render and split: each part ≤ 4,096 characters, code fences closed and reopened across parts (``` fences are
 * the same in MarkdownV2), inline entities cut by a split closed and reopened.
 */
export function renderTelegram(markdown: string, limit = MAX_MESSAGE_CHARS): string[] {
  const v2 = renderInChunks(markdown, markdownToV2, escapeText);
  return balanceParts(splitMessage(v2, limit - BALANCE_ROOM));
}
