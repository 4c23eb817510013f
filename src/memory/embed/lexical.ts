/**
 * The offline embedder: deterministic and LEXICAL, not semantic. A text becomes a hashed random projection of its
 * content words, word pairs and character trigrams (so "colours" is near "colour"), L2-normalised: each feature adds
 * a signed weight at a few hashed positions, so vectors are dense enough for the sign-bit prefilter of the embedded
 * store and cosine still tracks shared features. It finds
 * memories that share words or word pieces with the query; it does not know that "car" is near "vehicle". Used
 * without an OpenAI key, with EMBEDDING_MODEL=lexical, and in tests.
 */
import { hash32, tokenize } from './tokenize.js';
import { normalise, type Embedder } from './types.js';

export const LEXICAL_MODEL = 'lexical-hash-v1';
/** Positions per feature. */
const SPREAD = 8;

export class LexicalEmbedder implements Embedder {
  readonly model = LEXICAL_MODEL;
  constructor(readonly dimensions = 256) {}

  private add(v: Float32Array, feature: string, weight: number): void {
    let h = hash32(feature);
    for (let k = 0; k < SPREAD; k++) {
      h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0; // next position and sign from the same feature
      v[h % this.dimensions]! += (h & 0x80000000 ? 1 : -1) * weight;
    }
  }

  embedOne(text: string): Float32Array {
    const v = new Float32Array(this.dimensions);
    const tokens = tokenize(text);
    tokens.forEach((t, i) => {
      this.add(v, `w:${t}`, 1);
      if (i > 0) this.add(v, `b:${tokens[i - 1]} ${t}`, 0.5);
      const padded = `#${t}#`;
      const grams = Math.max(1, padded.length - 2);
      for (let j = 0; j + 3 <= padded.length; j++) this.add(v, `c:${padded.slice(j, j + 3)}`, 0.6 / Math.sqrt(grams));
    });
    return normalise(v);
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    return texts.map((t) => this.embedOne(t));
  }
}
