/** Turns texts into dense vectors. Implementations: OpenAI embeddings, and the offline lexical embedder. */
export interface Embedder {
  /** Model id; with `dimensions` it names the Qdrant collection, so vectors of different models never mix. */
  readonly model: string;
  readonly dimensions: number;
  /** Unit-length vectors, one per text, in order. */
  embed(texts: string[]): Promise<Float32Array[]>;
}

export function normalise(v: Float32Array): Float32Array {
  let n = 0;
  for (let i = 0; i < v.length; i++) n += v[i]! * v[i]!;
  n = Math.sqrt(n);
  if (n > 0) for (let i = 0; i < v.length; i++) v[i]! /= n;
  else v[0] = 1; // no features at all: a fixed direction, so cosine stays defined (Qdrant rejects zero vectors)
  return v;
}
