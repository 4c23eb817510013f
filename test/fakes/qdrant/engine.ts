/**
 * The in-memory half of the fake Qdrant: collections of points, filter evaluation, dense cosine and sparse (idf)
 * scoring, and RRF fusion. It really evaluates what the client sends, so a missing user filter shows up as a leak
 * in the tests instead of passing silently.
 */
import { z } from 'zod';

export type Payload = Record<string, unknown>;
export type PointId = string | number;

export interface SparseVec {
  indices: number[];
  values: number[];
}

export interface Point {
  id: PointId;
  dense: Map<string, number[]>;
  sparse: Map<string, SparseVec>;
  payload: Payload;
}

export interface Collection {
  name: string;
  vectors: Map<string, { size: number; distance: string }>;
  sparseVectors: Map<string, { modifier?: string }>;
  indexes: Map<string, unknown>;
  points: Map<string, Point>;
}

/** Errors the server turns into Qdrant's `{status: {error}}` answers. */
export class QdrantError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const matchSchema = z.union([
  z.object({ value: z.union([z.string(), z.number(), z.boolean()]) }),
  z.object({ any: z.array(z.union([z.string(), z.number()])) }),
]);

export interface Filter {
  must?: Condition[] | Condition;
  should?: Condition[] | Condition;
  must_not?: Condition[] | Condition;
}
export type Condition = { key: string; match: z.infer<typeof matchSchema> } | { has_id: PointId[] } | Filter;

const idSchema = z.union([z.string(), z.number().int().nonnegative()]);
const conditionSchema: z.ZodType<Condition> = z.lazy(() =>
  z.union([
    z.object({ key: z.string(), match: matchSchema }).strict(),
    z.object({ has_id: z.array(idSchema) }).strict(),
    filterSchema,
  ]),
);
export const filterSchema: z.ZodType<Filter> = z.lazy(() =>
  z
    .object({
      must: z.union([z.array(conditionSchema), conditionSchema]).optional(),
      should: z.union([z.array(conditionSchema), conditionSchema]).optional(),
      must_not: z.union([z.array(conditionSchema), conditionSchema]).optional(),
    })
    .strict(),
);

export const idKey = (id: PointId) => (typeof id === 'string' ? id.toLowerCase() : String(id));
const list = <T>(x: T[] | T | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);

function holds(p: Point, c: Condition): boolean {
  if ('has_id' in c) return c.has_id.some((id) => idKey(id) === idKey(p.id));
  if ('key' in c) {
    const v = p.payload[c.key];
    const values = Array.isArray(v) ? v : [v];
    return 'value' in c.match
      ? values.includes(c.match.value)
      : values.some((x) => (c.match as { any: unknown[] }).any.includes(x));
  }
  return matches(p, c);
}

export function matches(p: Point, f: Filter | undefined): boolean {
  if (!f) return true;
  if (!list(f.must).every((c) => holds(p, c))) return false;
  if (list(f.must_not).some((c) => holds(p, c))) return false;
  const should = list(f.should);
  return !should.length || should.some((c) => holds(p, c));
}

function normalise(v: number[]): number[] {
  const n = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return n > 0 ? v.map((x) => x / n) : v;
}

export function storeDense(c: Collection, name: string, v: number[]): number[] {
  const conf = c.vectors.get(name);
  if (!conf) throw new QdrantError(400, `Wrong input: Not existing vector name error: ${name}`);
  if (v.length !== conf.size)
    throw new QdrantError(400, `Wrong input: Vector dimension error: expected dim: ${conf.size}, got ${v.length}`);
  return conf.distance === 'Cosine' ? normalise(v) : v;
}

export function checkSparse(c: Collection, name: string, v: SparseVec): SparseVec {
  if (!c.sparseVectors.has(name)) throw new QdrantError(400, `Wrong input: Not existing vector name error: ${name}`);
  if (v.indices.length !== v.values.length)
    throw new QdrantError(400, 'Wrong input: indices and values must have the same length');
  if (new Set(v.indices).size !== v.indices.length) throw new QdrantError(400, 'Wrong input: duplicate sparse indices');
  return v;
}

export interface Scored {
  point: Point;
  score: number;
}

/** One nearest-neighbour search (the leaf of a prefetch): exact, over the points passing `filter`. */
export function nearest(
  c: Collection,
  using: string,
  query: number[] | SparseVec,
  filter: Filter | undefined,
  limit: number,
): Scored[] {
  const candidates = [...c.points.values()].filter((p) => matches(p, filter));
  let scored: Scored[];
  if (Array.isArray(query)) {
    const q = storeDense(c, using, query);
    scored = candidates.flatMap((point) => {
      const v = point.dense.get(using);
      return v ? [{ point, score: v.reduce((s, x, i) => s + x * q[i]!, 0) }] : [];
    });
  } else {
    checkSparse(c, using, query);
    const idfOn = c.sparseVectors.get(using)?.modifier === 'idf';
    // Qdrant's idf modifier counts documents over the whole collection, not the filtered subset.
    const docs = [...c.points.values()].filter((p) => p.sparse.has(using));
    const idf = (term: number) => {
      const n = docs.filter((p) => p.sparse.get(using)!.indices.includes(term)).length;
      return Math.log(1 + (docs.length - n + 0.5) / (n + 0.5));
    };
    scored = candidates.flatMap((point) => {
      const v = point.sparse.get(using);
      if (!v) return [];
      let score = 0;
      let hit = false;
      query.indices.forEach((term, qi) => {
        const at = v.indices.indexOf(term);
        if (at < 0) return;
        hit = true;
        score += query.values[qi]! * v.values[at]! * (idfOn ? idf(term) : 1);
      });
      return hit ? [{ point, score }] : []; // sparse search only returns points sharing a term
    });
  }
  return scored.sort((a, b) => b.score - a.score).slice(0, limit);
}

/** Qdrant's RRF: 1 / (k + rank), rank from 0, default k = 2. */
export function rrf(lists: Scored[][], k = 2): Scored[] {
  const fused = new Map<string, Scored>();
  for (const l of lists) {
    l.forEach(({ point }, rank) => {
      const key = idKey(point.id);
      const prev = fused.get(key);
      fused.set(key, { point, score: (prev?.score ?? 0) + 1 / (k + rank) });
    });
  }
  return [...fused.values()].sort((a, b) => b.score - a.score);
}
