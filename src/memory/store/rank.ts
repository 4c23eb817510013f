/** Ranking helpers for the embedded store: top-k selection, BM25 IDF and reciprocal rank fusion. */

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

/** Reciprocal rank fusion (Cormack et al.): each list contributes 1 / (k + rank). */
export function rrf(lists: number[][], k = 60): Map<number, number> {
  const fused = new Map<number, number>();
  for (const list of lists) list.forEach((id, rank) => fused.set(id, (fused.get(id) ?? 0) + 1 / (k + rank + 1)));
  return fused;
}
