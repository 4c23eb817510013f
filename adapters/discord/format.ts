/**
 * Markdown -> Discord. Discord already renders most of what models write (bold, italics, strikethrough, code,
 * fences, lists, quotes, `#`..`###` headings, masked links), so tokens pass through byte for byte; only what
 * Discord shows as raw syntax is rewritten: tables, deeper or setext headings, thematic breaks and images.
 * Splitting into 2,000-character parts is left to the shared, fence-aware splitter.
 */
import { Lexer, type Token, type Tokens } from 'marked';
import { renderInChunks, splitMessage, trailingWhitespace } from '../kit/split.js';
import { DISCORD_MAX_MESSAGE_CHARS } from './limits.js';

/** Inline tokens -> their visible text (for table cells, where markup inside a code block would show raw). */
function plain(tokens: Token[] | undefined, fallback: string): string {
  if (!tokens) return fallback;
  return tokens
    .map((t) => {
      if (t.type === 'image') return (t as Tokens.Image).text || (t as Tokens.Image).href;
      if (t.type === 'br') return ' ';
      if ('tokens' in t && Array.isArray(t.tokens)) return plain(t.tokens, 'text' in t ? String(t.text) : t.raw);
      return 'text' in t ? String(t.text) : t.raw;
    })
    .join('');
}

/** Tables have no Discord rendering: draw them as aligned columns in a code block, which keeps them legible. */
function renderTable(table: Tokens.Table): string {
  const rows = [
    table.header.map((c) => plain(c.tokens, c.text)),
    ...table.rows.map((r) => r.map((c) => plain(c.tokens, c.text))),
  ];
  const widths = table.header.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (table.align[i] === 'right' ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join(' | ')
      .trimEnd();
  const out = [line(rows[0]!), widths.map((w) => '-'.repeat(Math.max(1, w))).join('-|-'), ...rows.slice(1).map(line)];
  return '```\n' + out.join('\n') + '\n```';
}

/** Keep the whitespace that followed a token's text in its raw form, so the surrounding layout is unchanged. */
function trailing(raw: string): string {
  return trailingWhitespace(raw);
}

function renderHeading(h: Tokens.Heading): string {
  const text = h.text.trim();
  // Discord renders "#".."###" (ATX only); setext headings and deeper levels would show as plain or raw text.
  if (h.depth <= 3)
    return h.raw.trimStart().startsWith('#') ? h.raw : `${'#'.repeat(h.depth)} ${text}${trailing(h.raw)}`;
  return `**${text}**${trailing(h.raw)}`;
}

/** Images inside a paragraph: Discord would print "!" before a link; a plain link still unfurls the picture. */
function renderParagraph(p: Tokens.Paragraph): string {
  if (!p.tokens?.some((t) => t.type === 'image')) return p.raw;
  const body = p.tokens
    .map((t) => {
      if (t.type !== 'image') return t.raw;
      const img = t as Tokens.Image;
      return img.text ? `[${img.text}](${img.href})` : img.href;
    })
    .join('');
  return body + trailing(p.raw);
}

/** Markdown from the model -> Discord markdown (not yet split). */
export function toDiscordMarkdown(markdown: string): string {
  let tokens: Token[];
  try {
    tokens = Lexer.lex(markdown);
  } catch {
    return markdown; // a lexer failure must never cost the reply: send the text as written
  }
  return tokens
    .map((t) => {
      switch (t.type) {
        case 'table':
          return renderTable(t as Tokens.Table) + trailing(t.raw);
        case 'heading':
          return renderHeading(t as Tokens.Heading);
        case 'hr':
          return '──────────' + trailing(t.raw);
        case 'paragraph':
          return renderParagraph(t as Tokens.Paragraph);
        default:
          return t.raw;
      }
    })
    .join('');
}

/** The adapter's `render`: converted, then split into parts of at most 2,000 characters with fences balanced. */
export function renderDiscord(markdown: string, limit = DISCORD_MAX_MESSAGE_CHARS): string[] {
  return splitMessage(renderInChunks(markdown, toDiscordMarkdown, (md) => md).trim(), limit);
}
