/**
 * Code-block-aware splitting of an already-rendered message into parts that each fit a platform limit.
 *
 * Hand-rolled on purpose: the libraries that split chat messages either cut code fences in half or truncate.
 * Rules, in order of preference: break between paragraphs, then between lines, then between words, and only as
 * a last resort inside a word. A code block that must be broken is closed at the end of one part and reopened
 * (with its language) at the start of the next, so every part renders as code on its own. Nothing is dropped:
 * joining the parts and removing the added fences gives back the input text (modulo the whitespace at breaks).
 */

const FENCE = /^\s*(```+|~~~+)(.*)$/;
/**
 * A fence line longer than this is text, not a fence: re-fencing each piece of a split code block repeats its
 * opening line, which must leave room for code (and a line of 10,000 backticks would otherwise vanish as an
 * empty code block, or give parts over the limit).
 */
const MAX_FENCE_LINE = 100;

interface Block {
  text: string;
  /** The block's lines (kept, so an oversized block is not split into lines a second time). */
  lines: string[];
  /** For fenced code: the opening fence line (e.g. "```ts") and closing fence, so a split can re-wrap pieces. */
  fence?: { open: string; close: string };
}

/** Paragraphs (separated by blank lines) and whole fenced code blocks, in order. */
function toBlocks(text: string): Block[] {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  const blocks: Block[] = [];
  let para: string[] = [];
  const flushPara = () => {
    if (para.length) blocks.push({ text: para.join('\n'), lines: para });
    para = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const m = line.length <= MAX_FENCE_LINE && (line.includes('```') || line.includes('~~~')) ? FENCE.exec(line) : null;
    if (m) {
      flushPara();
      const marker = m[1]!;
      const body: string[] = [lines[i]!];
      let j = i + 1;
      while (j < lines.length && !lines[j]!.trim().startsWith(marker)) body.push(lines[j++]!);
      const closed = j < lines.length;
      if (closed) body.push(lines[j]!);
      blocks.push({ text: body.join('\n'), lines: body, fence: { open: lines[i]!.trim(), close: marker } });
      i = closed ? j : lines.length;
      continue;
    }
    if (line.trim() === '') flushPara();
    else para.push(line);
  }
  flushPara();
  return blocks;
}

/** Break a run of text with no structure left (one long line) at word boundaries, else hard. */
function splitLine(line: string, limit: number): string[] {
  const out: string[] = [];
  let rest = line;
  while (rest.length > limit) {
    let cut = rest.lastIndexOf(' ', limit);
    if (cut < limit / 2) cut = limit; // no useful space: hard cut
    // never cut a surrogate pair in half
    const code = rest.charCodeAt(cut - 1);
    if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
    out.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).replace(/^ /, '');
  }
  if (rest.length) out.push(rest);
  return out;
}

/** Split lines greedily into chunks of at most `limit` characters joined by "\n". */
function packLines(lines: string[], limit: number): string[] {
  const chunks: string[] = [];
  let cur = '';
  for (const raw of lines) {
    for (const line of raw.length > limit ? splitLine(raw, limit) : [raw]) {
      if (!cur.length) cur = line;
      else if (cur.length + 1 + line.length <= limit) cur += '\n' + line;
      else {
        chunks.push(cur);
        cur = line;
      }
    }
  }
  if (cur.length) chunks.push(cur);
  return chunks;
}

/** Pieces of one oversized block, each within the limit. Code pieces are re-fenced. */
function splitBlock(block: Block, limit: number): string[] {
  if (!block.fence) return packLines(block.lines, limit);
  const lines = block.lines;
  const inner = lines.slice(1, lines.at(-1)!.trim().startsWith(block.fence.close) && lines.length > 1 ? -1 : undefined);
  const overhead = block.fence.open.length + block.fence.close.length + 2; // two newlines
  const room = Math.max(1, limit - overhead);
  return packLines(inner, room).map((piece) => `${block.fence!.open}\n${piece}\n${block.fence!.close}`);
}

export function splitMessage(text: string, limit: number): string[] {
  if (limit < 16) throw new Error('split limit too small');
  if (text.length <= limit) return text.length ? [text] : [];
  const parts: string[] = [];
  let cur = '';
  for (const block of toBlocks(text)) {
    const pieces = block.text.length <= limit ? [block.text] : splitBlock(block, limit);
    for (const piece of pieces) {
      if (!cur.length) cur = piece;
      else if (cur.length + 2 + piece.length <= limit) cur += '\n\n' + piece;
      else {
        parts.push(cur);
        cur = piece;
      }
    }
  }
  if (cur.length) parts.push(cur);
  return parts;
}

/**
 * Markdown parsers are superlinear on some inputs (runs of brackets, deep quotes and lists, escape-heavy text),
 * and model output is untrusted. A message up to RENDER_WHOLE_MAX_CHARS is rendered whole (bounded size, bounded
 * work, and inline spans stay intact); a longer one in pieces of at most RENDER_CHUNK_CHARS, so the work grows
 * linearly with its length. A piece boundary inside one huge paragraph may then split a bold span or a line.
 */
export const RENDER_WHOLE_MAX_CHARS = 24_000;
export const RENDER_CHUNK_CHARS = 2_000;

/**
 * Render long markdown piece by piece: cut at paragraph, then line, then word boundaries (fences closed and
 * reopened, see splitMessage), render each piece, join with a blank line. A piece the renderer fails on (a stack
 * overflow on pathological nesting) goes out through `fallback` (plain, escaped text) instead of costing the reply.
 */
export function renderInChunks(
  markdown: string,
  render: (md: string) => string,
  fallback: (md: string) => string,
  chunk = RENDER_CHUNK_CHARS,
): string {
  const safe = (md: string) => {
    try {
      return render(capQuoteDepth(md));
    } catch {
      return fallback(md);
    }
  };
  if (markdown.length <= Math.max(chunk, RENDER_WHOLE_MAX_CHARS)) return safe(markdown);
  return splitMessage(markdown, chunk)
    .map(safe)
    .filter((s) => s.length > 0)
    .join('\n\n');
}

/** Deeper block quotes than this keep their extra `>` as escaped text: parsers re-scan a quote per level. */
const MAX_QUOTE_DEPTH = 8;
const DEEP_QUOTE = new RegExp(`^((?:[ \\t]*>){${MAX_QUOTE_DEPTH}})((?:[ \\t]*>)+)`, 'gm');

/** `>>>>>>>>>>>x` -> `>>>>>>>> \\>\\>\\>x`: the same characters on screen, a bounded nesting to parse. */
export function capQuoteDepth(md: string): string {
  return md.replace(DEEP_QUOTE, (_all, kept: string, extra: string) => `${kept} ${extra.replace(/[ \t]*>/g, '\\>')}`);
}

/** The whitespace a string ends with, found by a backwards scan (a `/\s*$/` regex is quadratic on long runs). */
export function trailingWhitespace(s: string): string {
  let i = s.length;
  while (i > 0 && /\s/.test(s[i - 1]!)) i--;
  return s.slice(i);
}

/** `s` without trailing newlines, by a backwards scan (`/\n+$/` is quadratic on long newline runs). */
export function trimTrailingNewlines(s: string): string {
  let i = s.length;
  while (i > 0 && s.charCodeAt(i - 1) === 10) i--;
  return s.slice(0, i);
}
