/**
 * A strict MarkdownV2 parser for the fake Bot API, written independently of the adapter from Telegram's rules
 * (https://core.telegram.org/bots/api#markdownv2-style) and the shape of TDLib's parse_markdown_v2: any reserved
 * character outside an entity that is not escaped is refused with Telegram's own message, as are unclosed
 * entities. What it returns is what a Telegram client would show: the text without markup, plus entities.
 */

export interface ParsedEntity {
  type: 'bold' | 'italic' | 'underline' | 'strikethrough' | 'spoiler' | 'code' | 'pre' | 'text_link' | 'blockquote';
  offset: number;
  length: number;
  url?: string;
  language?: string;
}

export class EntityParseError extends Error {}

const RESERVED = '_*[]()~`>#+-=|{}.!';

interface Open {
  type: ParsedEntity['type'];
  start: number;
  at: number;
  language?: string;
}

const reserved = (c: string) =>
  new EntityParseError(`Character '${c}' is reserved and must be escaped with the preceding '\\'`);

export function parseMarkdownV2(src: string): { text: string; entities: ParsedEntity[] } {
  let text = '';
  const entities: ParsedEntity[] = [];
  const stack: Open[] = [];
  let quote: Open | undefined;
  let i = 0;
  const top = () => stack[stack.length - 1];
  while (i < src.length) {
    const c = src[i]!;
    const atLineStart = i === 0 || src[i - 1] === '\n';
    // A blockquote ends at the first line that does not start with '>'.
    if (quote && atLineStart && c !== '>' && i > quote.at) {
      entities.push({ type: 'blockquote', offset: quote.start, length: text.length - quote.start });
      quote = undefined;
    }
    if (c === '\\' && i + 1 < src.length && src.charCodeAt(i + 1) > 0 && src.charCodeAt(i + 1) <= 126) {
      text += src[i + 1];
      i += 2;
      continue;
    }
    const t = top();
    const inCode = t?.type === 'code' || t?.type === 'pre';
    if (c === '\r' && !inCode) {
      i++;
      continue;
    }
    if (inCode ? c !== '`' : !RESERVED.includes(c)) {
      text += c;
      i++;
      continue;
    }
    // Closing the innermost entity?
    let closes = false;
    if (t) {
      switch (t.type) {
        case 'bold':
          closes = c === '*';
          break;
        case 'italic':
          closes = c === '_' && src[i + 1] !== '_';
          break;
        case 'underline':
          closes = c === '_' && src[i + 1] === '_';
          break;
        case 'strikethrough':
          closes = c === '~';
          break;
        case 'spoiler':
          closes = c === '|' && src[i + 1] === '|';
          break;
        case 'code':
          closes = c === '`';
          break;
        case 'pre':
          closes = src.startsWith('```', i);
          break;
        case 'text_link':
          closes = c === ']';
          break;
        default:
          break;
      }
    }
    if (closes) {
      const open = stack.pop()!;
      const entity: ParsedEntity = { type: open.type, offset: open.start, length: text.length - open.start };
      if (open.type === 'pre') {
        i += 3;
        if (open.language) entity.language = open.language;
      } else if (open.type === 'underline' || open.type === 'spoiler') i += 2;
      else i += 1;
      if (open.type === 'text_link') {
        if (src[i] !== '(') throw new EntityParseError(`Can't find end of a URL at byte offset ${i}`);
        let url = '';
        i++;
        while (i < src.length && src[i] !== ')') {
          if (src[i] === '\\' && i + 1 < src.length) i++;
          url += src[i];
          i++;
        }
        if (i >= src.length) throw new EntityParseError(`Can't find end of a URL at byte offset ${i}`);
        i++;
        if (!/^(https?:\/\/|tg:\/\/)\S+$/i.test(url)) throw new EntityParseError(`Wrong URL "${url}"`);
        entity.url = url;
      }
      if (entity.length > 0) entities.push(entity);
      continue;
    }
    if (inCode) throw new Error('unreachable: only ` reaches here inside code');
    const open = (type: Open['type'], width: number, language?: string) => {
      stack.push({ type, start: text.length, at: i, ...(language ? { language } : {}) });
      i += width;
    };
    if (c === '>' && atLineStart) {
      quote ??= { type: 'blockquote', start: text.length, at: i };
      i++;
      continue;
    }
    if (src.startsWith('```', i)) {
      // As TDLib: the language runs to the first space or backtick, then one newline is skipped.
      let end = i + 3;
      while (end < src.length && !/[\s`]/.test(src[end]!)) end++;
      const language = src.slice(i + 3, end);
      if (src[end] === '\n') end++;
      open('pre', end - i, language || undefined);
      continue;
    }
    if (c === '_') open(src[i + 1] === '_' ? 'underline' : 'italic', src[i + 1] === '_' ? 2 : 1);
    else if (c === '*') open('bold', 1);
    else if (c === '~') open('strikethrough', 1);
    else if (c === '|' && src[i + 1] === '|') open('spoiler', 2);
    else if (c === '`') open('code', 1);
    else if (c === '[') open('text_link', 1);
    else throw reserved(c);
  }
  if (stack.length) {
    const t = stack[stack.length - 1]!;
    const name = t.type === 'text_link' ? 'TextUrl' : t.type[0]!.toUpperCase() + t.type.slice(1);
    throw new EntityParseError(`Can't find end of ${name} entity at byte offset ${t.at}`);
  }
  if (quote) entities.push({ type: 'blockquote', offset: quote.start, length: text.length - quote.start });
  return { text, entities };
}

/** Characters the adapter must escape in running text, for tests that throw all of them at it. */
export const MARKDOWN_V2_RESERVED = RESERVED + '\\';
