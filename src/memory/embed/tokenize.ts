/**
 * One tokenizer for every lexical signal: the offline embedder's hashed features, the sparse BM25-style vector
 * stored in Qdrant, and the BM25 scoring of the embedded store. Deterministic and language-light on purpose
 * (lowercase, accents folded, a short English stop list, plural "s" stripped, UK/US spellings folded).
 */

const STOP = new Set(
  (
    'a an and are as at be been but by do does did for from had has have he her his i if in into is it its me my of on ' +
    'or our she so than that the their them then there these they this to too was we were what when where which who ' +
    'why will with you your yours am can could would should please now just about also'
  ).split(' '),
);

/** A few spellings folded so "colour" finds "color"; deliberately tiny. */
const FOLD: Record<string, string> = {
  colour: 'color',
  favourite: 'favorite',
  centre: 'center',
  organisation: 'organization',
  grey: 'gray',
};

function stem(t: string): string {
  if (t.length > 3 && t.endsWith('s') && !/(ss|us|is)$/.test(t)) t = t.slice(0, -1);
  return FOLD[t] ?? t;
}

/** Content words of a text, in order, lowercased and accent-folded but not stemmed (word vectors know "dogs"). */
export function contentWords(text: string): string[] {
  const words = text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u);
  return words.filter((w) => w && !STOP.has(w) && (w.length >= 2 || /\d/.test(w)));
}

/** Content tokens of a text, in order (repeats kept: term frequency matters). */
export function tokenize(text: string): string[] {
  return contentWords(text).map(stem);
}

/** The token form of one word ("colours" -> "color"), for lookups that fall back to it. */
export function stemWord(word: string): string {
  return stem(word);
}

/** FNV-1a, 32 bit: stable across processes and languages (Qdrant sparse indices are uint32). */
export function hash32(s: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export interface SparseVector {
  indices: number[];
  values: number[];
}

/** BM25 saturation constants. Memories are short, so a fixed average length stands in for the corpus one. */
export const BM25_K1 = 1.2;
export const BM25_B = 0.75;
export const BM25_AVG_LEN = 10;

/** Term frequency -> BM25 term weight (without IDF; Qdrant's `modifier: idf` / our own scorer adds that). */
export function bm25Tf(tf: number, docLen: number): number {
  return (tf * (BM25_K1 + 1)) / (tf + BM25_K1 * (1 - BM25_B + (BM25_B * docLen) / BM25_AVG_LEN));
}

/** Term hash -> count, for a document. */
export function termCounts(tokens: string[]): Map<number, number> {
  const m = new Map<number, number>();
  for (const t of tokens) {
    const h = hash32(t);
    m.set(h, (m.get(h) ?? 0) + 1);
  }
  return m;
}

/** The sparse vector of a stored memory: BM25 term weights. */
export function sparseDocument(text: string): SparseVector {
  const tokens = tokenize(text);
  const counts = termCounts(tokens);
  const indices = [...counts.keys()].sort((a, b) => a - b);
  return { indices, values: indices.map((i) => bm25Tf(counts.get(i)!, tokens.length)) };
}

/** The sparse vector of a query: each distinct term once (IDF is applied by the scorer). */
export function sparseQuery(text: string): SparseVector {
  const indices = [...new Set(tokenize(text).map((t) => hash32(t)))].sort((a, b) => a - b);
  return { indices, values: indices.map(() => 1) };
}
