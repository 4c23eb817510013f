/**
 * Compact encodings for the embedded store. A search is two steps, like Qdrant's binary quantisation with
 * rescoring, so it reads ~100 bytes per memory instead of a full vector:
 *
 * 1. scan: ONE aggregate of every current memory's `sig` (all of the user's rows arrive as one buffer):
 *      [16 id][u32 model hash][u32 record size][u16 doc length][u16 term count]
 *      [(u32 term hash, u8 count) x terms][sign bits of the dense vector, padded to 32-bit words]
 *    scored by Hamming similarity of the sign bits and by BM25 over the terms (exact);
 * 2. rescore: the best candidates' `vec` (int8 + one float32 factor, so dot(query, int8) * factor is the cosine,
 *    quantisation error well under 1%) is read by primary key and scored exactly.
 */
import { hash32, termCounts, tokenize } from '../embed/tokenize.js';

const HEAD = 28;

function uuidString(b: Buffer, o: number): string {
  const h = b.toString('hex', o, o + 16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function encodeSignature(id: string, modelKey: string, text: string, v: Float32Array): Buffer {
  const tokens = tokenize(text);
  const counts = [...termCounts(tokens)].slice(0, 0xffff);
  const words = Math.ceil(v.length / 32);
  const size = HEAD + counts.length * 5 + words * 4;
  const buf = Buffer.alloc(size);
  Buffer.from(id.replace(/-/g, ''), 'hex').copy(buf, 0);
  buf.writeUInt32LE(hash32(modelKey), 16);
  buf.writeUInt32LE(size, 20);
  buf.writeUInt16LE(Math.min(tokens.length, 0xffff), 24);
  buf.writeUInt16LE(counts.length, 26);
  let o = HEAD;
  for (const [h, c] of counts) {
    buf.writeUInt32LE(h, o);
    buf.writeUInt8(Math.min(c, 0xff), o + 4);
    o += 5;
  }
  for (let w = 0; w < words; w++) buf.writeUInt32LE(signBits(v, w), o + w * 4);
  return buf;
}

function signBits(v: Float32Array, word: number): number {
  let bits = 0;
  for (let b = 0; b < 32; b++) if ((v[word * 32 + b] ?? 0) > 0) bits |= 1 << b;
  return bits >>> 0;
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

export interface Signatures {
  count: number;
  /** Sign-bit agreement with the query (0..1); NaN when the memory was embedded by another model. */
  bits: Float64Array;
  /** Per memory, (query term index, count) pairs of the query terms it contains (mostly the shared empty list). */
  matches: [number, number][][];
  docLength: Uint16Array;
  id(i: number): string;
}

const NONE: [number, number][] = [];

/** Walks concatenated signatures and scores them against a query. Allocation-light: it runs over 10,000 rows. */
export function scanSignatures(
  buf: Buffer,
  modelKey: string,
  query: Float32Array,
  terms: Map<number, number>,
): Signatures {
  const model = hash32(modelKey);
  const words = Math.ceil(query.length / 32);
  const qbits = Uint32Array.from({ length: words }, (_, w) => signBits(query, w));
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  // Queries have a handful of terms: a linear probe of a typed array beats a Map lookup here.
  const qt = Uint32Array.from(terms.keys());
  const qi = Uint32Array.from(terms.values());
  const offsets: number[] = [];
  for (let o = 0; o + HEAD <= buf.length; o += view.getUint32(o + 20, true)) offsets.push(o);
  const count = offsets.length;
  const bits = new Float64Array(count);
  const matches = new Array<[number, number][]>(count);
  const docLength = new Uint16Array(count);
  for (let i = 0; i < count; i++) {
    const o = offsets[i]!;
    const size = view.getUint32(o + 20, true);
    const n = view.getUint16(o + 26, true);
    docLength[i] = view.getUint16(o + 24, true);
    let m = NONE;
    if (qt.length) {
      for (let k = 0, t = o + HEAD; k < n; k++, t += 5) {
        const h = view.getUint32(t, true);
        for (let j = 0; j < qt.length; j++) if (qt[j] === h) (m === NONE ? (m = []) : m).push([qi[j]!, buf[t + 4]!]);
      }
    }
    matches[i] = m;
    const code = o + HEAD + n * 5;
    if (size - (code - o) !== words * 4 || view.getUint32(o + 16, true) !== model) {
      bits[i] = NaN;
      continue;
    }
    let same = 0;
    for (let w = 0; w < words; w++) same += 32 - popcount((view.getUint32(code + w * 4, true) ^ qbits[w]!) >>> 0);
    bits[i] = same / (words * 32);
  }
  return { count, bits, matches, docLength, id: (i) => uuidString(buf, offsets[i]!) };
}

/** The full dense vector: int8 per dimension after a float32 factor. */
export function encodeVector(v: Float32Array): Buffer {
  let max = 0;
  for (const x of v) max = Math.max(max, Math.abs(x));
  const scale = max > 0 ? max / 127 : 1;
  const buf = Buffer.alloc(4 + v.length);
  let norm = 0;
  for (let i = 0; i < v.length; i++) {
    const q = Math.max(-127, Math.min(127, Math.round(v[i]! / scale)));
    buf.writeInt8(q, 4 + i);
    norm += q * q;
  }
  buf.writeFloatLE(norm > 0 ? 1 / Math.sqrt(norm) : 0, 0);
  return buf;
}

/** Cosine of a unit-length query with an encoded vector; null when the dimensions differ. */
export function cosine(query: Float32Array, buf: Buffer): number | null {
  const n = buf.length - 4;
  if (n !== query.length) return null;
  let dot = 0;
  for (let i = 0; i < n; i++) dot += query[i]! * buf.readInt8(4 + i);
  return dot * buf.readFloatLE(0);
}

/** Distinct query term hashes, indexed. */
export function queryTermIndex(text: string): Map<number, number> {
  return new Map([...new Set(tokenize(text).map((t) => hash32(t)))].map((h, i) => [h, i]));
}

/**
 * What a memory is searched by: its text and the slot it fills ("employer", "home"; consolidate.ts), so "who is my
 * employer?" finds "The user works at Globex." lexically and densely (bench:memory --quality: 0.65 -> 0.75 recall@5
 * lexical, 0.95 -> 0.96 word vectors). The text alone is what is stored and shown.
 */
export function searchableText(m: { text: string; subject?: string | null }): string {
  return m.subject ? `${m.text} ${m.subject}` : m.text;
}
