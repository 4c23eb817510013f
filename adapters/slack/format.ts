/**
 * Markdown (as the model writes it) -> Slack mrkdwn, then split into parts Slack accepts.
 *
 * Walks the token tree of marked's Lexer (the project's one markdown parser) instead of regex rewriting, so code
 * stays code and nesting is right. Slack mrkdwn differences handled here:
 * - bold is *x*, italic _x_, strike ~x~, links <url|text>; no headings (bold line instead), no tables (a code
 *   block with padded columns), no language tag on fences (Slack would print it as the first code line).
 * - &, < and > are control characters everywhere, code included: they are escaped as &amp; &lt; &gt;.
 * - Lists have no syntax: bullets and numbers are written out, nested items indented.
 * Not handled: a literal * _ ~ in plain text can still be read as formatting by Slack (mrkdwn has no escape).
 */
import { Lexer, type Token, type Tokens } from 'marked';
import { renderInChunks, splitMessage, trimTrailingNewlines } from '../kit/split.js';
import { SLACK_MAX_MESSAGE_CHARS } from './limits.js';

const BULLETS = ['•', '◦', '▪'];
const INDENT = '    ';

export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** marked keeps character references as written; markdown means the character, so decode before escaping. */
function decodeEntities(text: string): string {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, ref: string) => {
    if (ref[0] === '#') {
      const code =
        ref[1] === 'x' || ref[1] === 'X' ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return named[ref.toLowerCase()] ?? whole;
  });
}

const text = (s: string) => escapeMrkdwn(decodeEntities(s));

/** URLs go inside <…|…>: keep them intact but make sure they cannot close the link or start a label early. */
function escapeUrl(href: string): string {
  return href.replace(/&/g, '&amp;').replace(/</g, '%3C').replace(/>/g, '%3E').replace(/\|/g, '%7C');
}

interface InlineCtx {
  /** Inside a bold span (a heading): nested bold markers would close it early. */
  bold?: boolean;
}

/** The words only, unescaped: link labels (Slack does not format them) and table cells (rendered as code). */
function plain(tokens: Token[] | undefined): string {
  return (tokens ?? [])
    .map((t) => {
      if (t.type === 'br') return ' ';
      if (t.type === 'escape' || t.type === 'codespan' || t.type === 'html') return (t as Tokens.Escape).text;
      if ('tokens' in t && t.tokens?.length) return plain(t.tokens);
      return t.type === 'text' ? decodeEntities((t as Tokens.Text).text) : ((t as Tokens.Generic).text ?? '');
    })
    .join('');
}

function inline(tokens: Token[] | undefined, ctx: InlineCtx = {}): string {
  return (tokens ?? []).map((t) => inlineToken(t, ctx)).join('');
}

function wrap(marker: string, inner: string): string {
  return inner.trim() ? `${marker}${inner}${marker}` : inner;
}

function inlineToken(t: Token, ctx: InlineCtx): string {
  switch (t.type) {
    case 'text': {
      const tt = t as Tokens.Text;
      return tt.tokens?.length ? inline(tt.tokens, ctx) : text(tt.text);
    }
    case 'escape':
      return escapeMrkdwn((t as Tokens.Escape).text);
    case 'strong':
      return ctx.bold ? inline((t as Tokens.Strong).tokens, ctx) : wrap('*', inline((t as Tokens.Strong).tokens, ctx));
    case 'em':
      return wrap('_', inline((t as Tokens.Em).tokens, ctx));
    case 'del':
      return wrap('~', inline((t as Tokens.Del).tokens, ctx));
    case 'codespan':
      return `\`${escapeMrkdwn((t as Tokens.Codespan).text)}\``;
    case 'br':
      return '\n';
    case 'link':
    case 'image': {
      const l = t as Tokens.Link | Tokens.Image;
      const label = plain(l.tokens).trim();
      const url = escapeUrl(l.href);
      return !label || label === l.href ? `<${url}>` : `<${url}|${escapeMrkdwn(label)}>`;
    }
    case 'html':
      return text((t as Tokens.HTML).text);
    default:
      return 'tokens' in t && t.tokens ? inline(t.tokens, ctx) : text(t.raw);
  }
}

function codeBlock(body: string): string {
  return '```\n' + escapeMrkdwn(trimTrailingNewlines(body)) + '\n```';
}

function table(t: Tokens.Table): string {
  const cell = (c: Tokens.TableCell) => plain(c.tokens).trim();
  const rows = [t.header.map(cell), ...t.rows.map((r) => r.map(cell))];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join(' | ')
      .trimEnd();
  return codeBlock(
    [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.slice(1).map(line)].join('\n'),
  );
}

function list(t: Tokens.List, depth: number): string {
  const start = typeof t.start === 'number' ? t.start : 1;
  const pad = INDENT.repeat(depth + 1);
  return t.items
    .map((item, i) => {
      const marker = t.ordered ? `${start + i}.` : BULLETS[depth % BULLETS.length]!;
      const check = item.task ? (item.checked ? '☑ ' : '☐ ') : '';
      let body = '';
      for (const child of item.tokens) {
        if (child.type === 'checkbox') continue;
        // Nested lists indent themselves; other blocks (loose paragraphs, code) are indented under the marker.
        const rendered =
          child.type === 'list'
            ? list(child as Tokens.List, depth + 1)
            : block(child, depth + 1)
                .split('\n')
                .map((l, j) => (j === 0 && !body ? l : pad + l))
                .join('\n');
        if (!rendered.trim()) continue;
        body += body || child.type === 'list' ? `\n${rendered}` : rendered;
      }
      return `${INDENT.repeat(depth)}${marker} ${check}${body}`;
    })
    .join('\n');
}

function block(t: Token, depth = 0): string {
  switch (t.type) {
    case 'space':
    case 'def':
    case 'checkbox':
      return '';
    case 'paragraph':
      return inline((t as Tokens.Paragraph).tokens);
    case 'text': {
      const tt = t as Tokens.Text;
      return tt.tokens?.length ? inline(tt.tokens) : text(tt.text);
    }
    case 'heading':
      return `*${inline((t as Tokens.Heading).tokens, { bold: true })}*`;
    case 'code':
      return codeBlock((t as Tokens.Code).text);
    case 'blockquote':
      return blocks((t as Tokens.Blockquote).tokens)
        .split('\n')
        .map((l) => (l ? `> ${l}` : '>'))
        .join('\n');
    case 'list':
      return list(t as Tokens.List, depth);
    case 'hr':
      return '──────────';
    case 'table':
      return table(t as Tokens.Table);
    case 'html':
      return text((t as Tokens.HTML).text.trimEnd());
    default:
      return 'tokens' in t && t.tokens ? inline(t.tokens) : text(t.raw);
  }
}

function blocks(tokens: Token[]): string {
  return tokens
    .map((t) => block(t))
    .filter((s) => s.length > 0)
    .join('\n\n');
}

export function markdownToMrkdwn(markdown: string): string {
  return blocks(Lexer.lex(markdown, { gfm: true }));
}

/** The adapter's `render`: mrkdwn, split at Slack's limit with code fences kept balanced in every part. */
export function renderSlack(markdown: string, limit = SLACK_MAX_MESSAGE_CHARS): string[] {
  return splitMessage(renderInChunks(markdown, markdownToMrkdwn, escapeMrkdwn), limit);
}
