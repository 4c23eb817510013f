/** Ranking helpers for the embedded store: top-k selection, BM25 IDF and score fusion. */

/** Indices of the k highest scores (descending), skipping NaN; O(n log k)-ish with a small sorted buffer. */
export function topK(scores: Float64Array, k: number): number[] {
  const idx: number[] = [];
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    if (Number.isNaN(s)) continue;
    if (idx.length === k && s <= scores[idx[k - 1]!]!) continue;
    let j = idx.length < k ? idx.length : k - 1;
    if (idx.length < k) idx.push(i);
    while (j > 0 && scores[idx[j - 1]!]! < s) {
      idx[j] = idx[j - 1]!;
      j--;
    }
    idx[j] = i;
  }
  return idx;
}

/** The IDF Qdrant's `modifier: idf` uses, so both stores rank lexical matches alike. */
export function idf(docs: number, df: number): number {
  return Math.log(1 + (docs - df + 0.5) / (df + 0.5));
}

/**
 * exp(relevance / SHARPNESS): recall.ts multiplies scores by a recency weight of 0.7..1, so a stale memory loses
 * only to one within ~0.035 of its relevance. Sentence cosines sit in a narrow band (0.2-0.5), so unsharpened a
 * month-old "manager" fact lost "who is my boss?" to yesterday's "cat" fact.
 */
const SHARPNESS = 0.1;

/**
 * Score fusion that keeps relevance gaps (RRF flattens them: its 1st and 10th differ by ~13%, less than recency
 * weighting moves): cosine similarity plus `lexicalWeight` x the BM25 score relative to the best one, sharpened.
 */
export function blend(
  dense: Float64Array,
  lexical: Float64Array,
  candidates: number[],
  lexicalWeight: number,
): Map<number, number> {
  let best = 0;
  for (const i of candidates) if (lexical[i]! > best) best = lexical[i]!;
  const out = new Map<number, number>();
  for (const i of candidates) {
    const d = Number.isNaN(dense[i]!) ? 0 : Math.max(0, dense[i]!);
    const l = Number.isNaN(lexical[i]!) || best === 0 ? 0 : lexical[i]! / best;
    out.set(i, Math.exp((d + lexicalWeight * l) / SHARPNESS));
  }
  return out;
}
