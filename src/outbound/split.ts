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

interface Block {
  text: string;
  /** For fenced code: the opening fence line (e.g. "```ts") and closing fence, so a split can re-wrap pieces. */
  fence?: { open: string; close: string };
}

/** Paragraphs (separated by blank lines) and whole fenced code blocks, in order. */
function toBlocks(text: string): Block[] {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  const blocks: Block[] = [];
  let para: string[] = [];
  const flushPara = () => {
    if (para.length) blocks.push({ text: para.join('\n') });
    para = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const m = FENCE.exec(lines[i]!);
    if (m) {
      flushPara();
      const marker = m[1]!;
      const body: string[] = [lines[i]!];
      let j = i + 1;
      while (j < lines.length && !lines[j]!.trim().startsWith(marker)) body.push(lines[j++]!);
      const closed = j < lines.length;
      if (closed) body.push(lines[j]!);
      blocks.push({ text: body.join('\n'), fence: { open: lines[i]!.trim(), close: marker } });
      i = closed ? j : lines.length;
      continue;
    }
    if (lines[i]!.trim() === '') flushPara();
    else para.push(lines[i]!);
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
  if (!block.fence) return packLines(block.text.split('\n'), limit);
  const lines = block.text.split('\n');
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
