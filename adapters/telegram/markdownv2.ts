/**
 * Telegram MarkdownV2 at the character level: escaping (https://core.telegram.org/bots/api#markdownv2-style),
 * a lenient scanner that follows the same grammar as Telegram's parser, and two uses of it: the plain text of a
 * rendered part (for the "can't parse entities" fallback) and re-balancing entities cut by a split.
 */

/** Outside entities every one of these must be escaped (and the backslash itself). */
const TEXT_SPECIAL = /[_*[\]()~`>#+\-=|{}.!\\]/g;
/** Inside `code` and ```pre``` only the backtick and the backslash. */
const CODE_SPECIAL = /[`\\]/g;
/** Inside the (url) part of an inline link only the closing parenthesis and the backslash. */
const URL_SPECIAL = /[)\\]/g;

export const escapeText = (s: string): string => s.replace(TEXT_SPECIAL, '\\$&');
export const escapeCode = (s: string): string => s.replace(CODE_SPECIAL, '\\$&');
export const escapeUrl = (s: string): string => s.replace(URL_SPECIAL, '\\$&');

/** Inline entity markers, as written. Pre blocks are balanced by splitMessage itself; links cannot be re-opened. */
type Marker = '*' | '_' | '__' | '~' | '||' | '`' | '```' | '[' | '(';

interface ScanSink {
  text(s: string): void;
  linkOpen?(): void;
  /** A link's text ended; `url` is its destination when a `(...)` followed. */
  linkClose?(url: string | undefined): void;
}

/**
 * Walk MarkdownV2 the way Telegram does: a marker closes the entity on top of the stack when it matches, else
 * opens a new one. Never throws: characters Telegram would refuse are taken literally, so it also reads the
 * broken input that the fallback exists for. Returns the markers still open at the end, innermost last, and
 * whether the text ended on a lone escape backslash.
 */
export function scanV2(s: string, sink: ScanSink): { open: Marker[]; danglingEscape: boolean } {
  const stack: Marker[] = [];
  let url = '';
  let i = 0;
  const top = () => stack[stack.length - 1];
  const lineStart = (k: number) => k === 0 || s[k - 1] === '\n';
  while (i < s.length) {
    const c = s[i]!;
    if (c === '\\') {
      if (i + 1 >= s.length) return { open: stack, danglingEscape: true };
      if (top() === '(') url += s[i + 1];
      else sink.text(s[i + 1]!);
      i += 2;
      continue;
    }
    const t = top();
    if (t === '```') {
      if (s.startsWith('```', i)) {
        stack.pop();
        i += 3;
      } else {
        sink.text(c);
        i++;
      }
      continue;
    }
    if (t === '`') {
      if (c === '`') stack.pop();
      else sink.text(c);
      i++;
      continue;
    }
    if (t === '(') {
      if (c === ')') {
        stack.pop();
        sink.linkClose?.(url);
        url = '';
      } else url += c;
      i++;
      continue;
    }
    if (c === '\r') {
      i++; // Telegram ignores \r; it separates markers such as `_a_\r_b_`
      continue;
    }
    if (s.startsWith('```', i)) {
      // ```lang\n ... ``` : the language runs to the end of the line and is not text
      const nl = s.indexOf('\n', i + 3);
      stack.push('```');
      i = nl === -1 ? s.length : nl + 1;
      continue;
    }
    // As Telegram reads them: `__` is underline unless a single `_` closes the italic on top of the stack.
    const two = s.slice(i, i + 2);
    const marker: Marker | undefined =
      c === '`'
        ? '`'
        : c === '*'
          ? '*'
          : c === '~'
            ? '~'
            : two === '||'
              ? '||'
              : two === '__'
                ? '__'
                : c === '_'
                  ? '_'
                  : undefined;
    if (marker) {
      if (t === marker) stack.pop();
      else stack.push(marker);
      i += marker.length;
      continue;
    }
    if (c === '[') {
      stack.push('[');
      sink.linkOpen?.();
      i++;
      continue;
    }
    if (c === ']' && t === '[') {
      stack.pop();
      if (s[i + 1] === '(') {
        stack.push('(');
        i += 2;
      } else {
        sink.linkClose?.(undefined);
        i++;
      }
      continue;
    }
    if (c === '>' && lineStart(i)) {
      i++; // blockquote marker
      continue;
    }
    sink.text(c);
    i++;
  }
  return { open: stack, danglingEscape: false };
}

/**
 * The text of a rendered part with all markup and escapes removed: what to send without parse_mode when
 * Telegram refuses the formatting. Links keep their destination, "text (url)", so nothing the reader needs is lost.
 */
export function toPlainText(v2: string): string {
  let out = '';
  const linkStarts: number[] = [];
  scanV2(v2, {
    text: (t) => {
      out += t;
    },
    linkOpen: () => linkStarts.push(out.length),
    linkClose: (url) => {
      const text = out.slice(linkStarts.pop() ?? out.length);
      if (url && url !== text) out += ` (${url})`;
    },
  });
  return out.replace(/\n{3,}/g, '\n\n').trim();
}

/**
 * Parts cut out of one rendered message can split an entity (`*bold ... | ... bold*`) or separate an escape
 * backslash from its character; Telegram would refuse both. Close what is open at the end of a part and open it
 * again at the start of the next. Links cut in half are left alone: the plain-text fallback still delivers them.
 * Adds at most a few characters per part; callers split with that much room to spare.
 */
export function balanceParts(parts: string[]): string[] {
  const out: string[] = [];
  let carry = '';
  for (let p = 0; p < parts.length; p++) {
    let part = carry + parts[p]!;
    carry = '';
    const { open, danglingEscape } = scanV2(part, { text: () => undefined });
    if (danglingEscape && p + 1 < parts.length) {
      part = part.slice(0, -1);
      carry = '\\';
    }
    const inline = open.filter((m) => m !== '```' && m !== '[' && m !== '(');
    if (inline.length === open.length && inline.length > 0 && p + 1 < parts.length) {
      part += [...inline].reverse().join('');
      const reopen = inline.join('');
      const next = carry + parts[p + 1]!;
      // `_` followed by `_` would read as underline: Telegram's documented separator is \r
      carry = reopen + (reopen.endsWith('_') && next.startsWith('_') ? '\r' : '') + carry;
    }
    out.push(part);
  }
  return out;
}
