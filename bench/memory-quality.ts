/**
 * Recall quality on the labelled set in bench/data/memory-quality.json, for each embedder available: the offline
 * lexical one, the offline word-vector one, and OpenAI's when OPENAI_API_KEY is set. Facts go through the real
 * consolidation (no subjects given: a changed value must be recognised from its wording) into the embedded
 * Postgres store, then every question is recalled as a turn would (recallFacts: hybrid search, recency weighting).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { Database } from '../src/db/client.js';
import { LexicalEmbedder } from '../src/memory/embed/lexical.js';
import { OpenAIEmbedder } from '../src/memory/embed/openai.js';
import type { Embedder } from '../src/memory/embed/types.js';
import { loadShippedWordVectors, WordVectorEmbedder } from '../src/memory/embed/word-vectors.js';
import { consolidate } from '../src/memory/consolidate.js';
import { recallFacts } from '../src/memory/recall.js';
import { PostgresMemoryStore } from '../src/memory/store/postgres.js';

const factSchema = z.object({
  id: z.string(),
  day: z.number(),
  text: z.string(),
  replaces: z.string().optional(),
  scope: z.literal('group').optional(),
});
const setSchema = z.object({
  user: z.array(factSchema),
  other: z.array(factSchema),
  questions: z.array(
    z.object({
      q: z.string(),
      answers: z.array(z.string()),
      type: z.string(),
      old: z.array(z.string()).optional(),
      in: z.literal('group').optional(),
    }),
  ),
});
type LabelledSet = z.infer<typeof setSchema>;

export function loadLabelledSet(): LabelledSet {
  return setSchema.parse(JSON.parse(readFileSync(new URL('./data/memory-quality.json', import.meta.url), 'utf8')));
}

export interface QualityResult {
  embedder: string;
  recallAt5: number;
  recallAt10: number;
  mrr: number;
  supersedeOk: boolean;
  isolationOk: boolean;
  p95Ms: number;
  byType: Record<string, number>;
  misses: string[];
}

const DAY = 86_400_000;
const START = Date.parse('2026-01-01T09:00:00Z');
const GROUP = 'local:default:team-room';
const round = (x: number) => Math.round(x * 1000) / 1000;

export function availableEmbedders(): Embedder[] {
  const out: Embedder[] = [new LexicalEmbedder()];
  const vectors = loadShippedWordVectors();
  if (vectors) out.push(new WordVectorEmbedder(vectors));
  const { OPENAI_API_KEY: apiKey, OPENAI_BASE_URL: baseUrl, EMBEDDING_MODEL: model } = process.env;
  if (apiKey) out.push(new OpenAIEmbedder({ apiKey, baseUrl, model: model ?? 'text-embedding-3-small' }));
  return out;
}

export async function measureQuality(database: Database, embedder: Embedder, set: LabelledSet): Promise<QualityResult> {
  const store = new PostgresMemoryStore(database.sql, database.db, embedder);
  const run = `${embedder.model}-${Date.now().toString(36)}`;
  const me = `bench:${run}:me`;
  const other = `bench:${run}:other`;
  const idOf = new Map<string, string>();
  let supersedeOk = true;
  const load = async (userKey: string, facts: LabelledSet['user']) => {
    for (const f of [...facts].sort((a, b) => a.day - b.day)) {
      const scope = f.scope === 'group' ? GROUP : `local:default:dm:${userKey}`;
      const known = await store.list(userKey, { kind: 'fact', limit: 200 });
      const op = { op: 'add' as const, text: f.text, subject: null, target: null };
      const r = await consolidate(store, userKey, [op], known, { at: new Date(START + f.day * DAY), scope });
      const now = r.added[0] ?? r.superseded[0]?.now;
      if (now) idOf.set(now.id, f.id);
      const replaced = r.superseded.map((s) => idOf.get(s.old.id));
      if (replaced.join() !== (f.replaces ?? '')) supersedeOk = false;
    }
  };
  await load(me, set.user);
  await load(other, set.other);
  const retired = new Set(set.user.flatMap((f) => (f.replaces ? [f.replaces] : [])));
  const groupFacts = new Set(set.user.filter((f) => f.scope === 'group').map((f) => f.id));
  const otherFacts = new Set(set.other.map((f) => f.id));

  let isolationOk = true;
  const at5: number[] = [];
  const at10: number[] = [];
  const rr: number[] = [];
  const byType = new Map<string, number[]>();
  const misses: string[] = [];
  const times: number[] = [];
  const now = new Date(START + 31 * DAY);
  const settings = { limit: 10, maxChars: 100_000, halfLifeDays: 30 };
  for (const q of set.questions) {
    const t = performance.now();
    const hits = await recallFacts(store, me, q.q, now, settings, { visibleIn: q.in === 'group' ? GROUP : undefined });
    times.push(performance.now() - t);
    const ids = hits.map((h) => idOf.get(h.id) ?? '?');
    if (ids.some((id) => otherFacts.has(id) || id === '?')) isolationOk = false;
    if (q.in === 'group' && ids.some((id) => !groupFacts.has(id))) isolationOk = false;
    if (ids.some((id) => retired.has(id))) supersedeOk = false;
    if (!q.answers.length) continue;
    const found = (k: number) => q.answers.filter((a) => ids.slice(0, k).includes(a)).length / q.answers.length;
    const first = ids.findIndex((id) => q.answers.includes(id));
    at5.push(found(5));
    at10.push(found(10));
    rr.push(first < 0 ? 0 : 1 / (first + 1));
    byType.set(q.type, [...(byType.get(q.type) ?? []), found(5)]);
    if (found(5) < 1) misses.push(`${q.q} -> ${ids.slice(0, 5).join(',')}`);
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const sorted = [...times].sort((a, b) => a - b);
  return {
    embedder: `${embedder.model}:${embedder.dimensions}`,
    recallAt5: round(mean(at5)),
    recallAt10: round(mean(at10)),
    mrr: round(mean(rr)),
    supersedeOk,
    isolationOk,
    p95Ms: round(sorted[Math.min(sorted.length - 1, Math.floor(0.95 * sorted.length))]!),
    byType: Object.fromEntries([...byType].map(([k, v]) => [k, round(mean(v))])),
    misses,
  };
}
