/**
 * The compact word-vector file the offline semantic embedder reads (built by `npm run memory:vectors`):
 *
 *   [4 "WVEC"][u32 version][u32 words][u32 dimensions][f32 scale x words][i8 x words x dimensions][utf-8 words, "\n"]
 *
 * Words are in corpus-frequency order (most frequent first), so a word's rank is its index: the embedder derives
 * its SIF weight from that rank. int8 per dimension with a per-word scale keeps 40,000 words x 100 dimensions
 * near 4 MB with a quantisation error far below the differences between words.
 */
import { readFileSync } from 'node:fs';

const MAGIC = 0x43455657; // "WVEC" little-endian
const VERSION = 1;
const HEAD = 16;

export interface WordVectors {
  dimensions: number;
  /** Word -> frequency rank (0 = most frequent). */
  index: Map<string, number>;
  /** The rank's vector, dequantised into `out` (length `dimensions`). */
  read(rank: number, out: Float32Array): void;
}

export function encodeWordVectors(words: string[], vectors: ArrayLike<number>[], dimensions: number): Buffer {
  const n = words.length;
  const head = Buffer.alloc(HEAD);
  head.writeUInt32LE(MAGIC, 0);
  head.writeUInt32LE(VERSION, 4);
  head.writeUInt32LE(n, 8);
  head.writeUInt32LE(dimensions, 12);
  const scales = Buffer.alloc(4 * n);
  const codes = Buffer.alloc(n * dimensions);
  vectors.forEach((v, i) => {
    let max = 0;
    for (let d = 0; d < dimensions; d++) max = Math.max(max, Math.abs(v[d]!));
    const scale = max > 0 ? max / 127 : 1;
    scales.writeFloatLE(scale, 4 * i);
    for (let d = 0; d < dimensions; d++) codes.writeInt8(Math.round(v[d]! / scale), i * dimensions + d);
  });
  return Buffer.concat([head, scales, codes, Buffer.from(words.join('\n'), 'utf8')]);
}

export function decodeWordVectors(buf: Buffer): WordVectors {
  if (buf.length < HEAD || buf.readUInt32LE(0) !== MAGIC || buf.readUInt32LE(4) !== VERSION) {
    throw new Error('word vectors: not a version 1 vector file');
  }
  const n = buf.readUInt32LE(8);
  const dimensions = buf.readUInt32LE(12);
  const codesAt = HEAD + 4 * n;
  const wordsAt = codesAt + n * dimensions;
  if (buf.length < wordsAt) throw new Error('word vectors: file is truncated');
  const words = buf.toString('utf8', wordsAt).split('\n');
  if (words.length !== n) throw new Error('word vectors: word list does not match the header');
  const index = new Map<string, number>();
  words.forEach((w, i) => index.set(w, i));
  const scales = new Float32Array(n);
  for (let i = 0; i < n; i++) scales[i] = buf.readFloatLE(HEAD + 4 * i);
  const codes = new Int8Array(buf.buffer, buf.byteOffset + codesAt, n * dimensions);
  return {
    dimensions,
    index,
    read(rank, out) {
      const s = scales[rank]!;
      const o = rank * dimensions;
      for (let d = 0; d < dimensions; d++) out[d] = codes[o + d]! * s;
    },
  };
}

export function loadWordVectors(file: string | URL): WordVectors {
  return decodeWordVectors(readFileSync(file));
}
