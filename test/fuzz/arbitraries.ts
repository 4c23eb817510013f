/**
 * Adversarial input for the ingress fuzz suite (fast-check). Bodies are built as text, because some of what we
 * want to send cannot be a JS value that `JSON.stringify` survives (10,000-deep nesting) or is not JSON at all.
 */
import fc from 'fast-check';

/** Fixed seed in CI so a failure reproduces; `npm run fuzz` passes a random one (and prints it). */
export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20_261_206);
export const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 15);
/** Per ingress: the app's replies are paced, so longer runs get proportionally longer. */
export const FUZZ_TIMEOUT_MS = 120_000 + FUZZ_RUNS * 2_000;
/** Shrinking replays HTTP requests; CI stops at the first failure, `npm run fuzz` shrinks. */
export const fuzzParams = { seed: FUZZ_SEED, numRuns: FUZZ_RUNS, endOnFailure: process.env.FUZZ_SHRINK !== '1' };

export const DEEP = 10_000;
const MB = 1024 * 1024;

/** Characters that break naive code: NUL, lone surrogates, RTL and zero-width marks, BOM, escapes of every platform. */
export const NASTY = [
  '\u0000',
  '\uD800',
  '\uDFFF',
  '\uDBFF\uDBFF',
  '\u202E',
  '\u200F',
  '\u200B',
  '\u200D',
  '\u2060',
  '\uFEFF',
  '\u0301',
  '\r\n',
  '\t',
  '\u2028',
  '\u00A0',
  '😀',
  '👩‍👩‍👧',
  '&amp;',
  '<@U123>',
  '<!channel>',
  '@everyone',
  '```',
  '*',
  '_',
  '~',
  '`',
  '\\',
  '"',
  "'",
  '%00',
  '%',
  '+',
  '&',
  '=',
  '{',
  '[',
  '${x}',
  '__proto__',
  'constructor',
  '/help',
  '/reset',
  '[[fail]]',
] as const;

/**
 * Big values travel through fast-check as short sentinel strings (so a counterexample prints in a line) and are
 * expanded to their JSON text when the body is built: 10,000-deep nesting (which no JS value survives
 * `JSON.stringify` with), 1 MB strings, long runs of nasty characters, 10,000-item attachment lists.
 */
const BIG = {
  'deep-array': () => '['.repeat(DEEP) + ']'.repeat(DEEP),
  'deep-object': () => '{"a":'.repeat(DEEP) + '1' + '}'.repeat(DEEP),
  // The one recursive shape an ingress schema declares: Discord's command options.
  'deep-options': () => '[' + '{"name":"o","type":1,"options":['.repeat(DEEP) + ']}'.repeat(DEEP) + ']',
  'mb-a': () => JSON.stringify('a'.repeat(MB)),
  'mb-space': () => JSON.stringify(' '.repeat(MB)),
  'mb-newline': () => JSON.stringify('\n'.repeat(MB)),
  'mb-nul': () => JSON.stringify('\u0000'.repeat(MB / 8)),
  'mb-zwsp': () => JSON.stringify('\u200B'.repeat(MB / 4)),
  'run-rtl': () => JSON.stringify('\u202E\u200F'.repeat(10_000)),
  'run-surrogate': () => JSON.stringify('\uD800x'.repeat(10_000)),
  'run-fence': () => JSON.stringify('```*_~`'.repeat(5_000)),
  'files-10k': () =>
    JSON.stringify(
      Array.from({ length: 10_000 }, (_, i) => ({
        name: `f${i}`,
        id: 'dup',
        file_id: 'dup',
        size: i,
        url_private: 'https://f.example/x',
      })),
    ),
};
export const sentinel = (name: keyof typeof BIG & string) => `\u0001${name}\u0001`;
export const bigValue = fc.constantFrom(...(Object.keys(BIG) as Array<keyof typeof BIG>)).map((n) => sentinel(n));

/** JSON text of `value`, with the sentinels expanded in place. */
export function toBody(value: unknown): string {
  let text = JSON.stringify(value) ?? 'null';
  for (const [name, make] of Object.entries(BIG) as Array<[keyof typeof BIG, () => string]>) {
    const token = JSON.stringify(sentinel(name));
    if (text.includes(token)) text = text.replaceAll(token, make());
  }
  return text;
}

/** A form field's text: strings as they are (big sentinels expanded), anything else as its JSON. */
export function formValue(v: unknown): string {
  const text = toBody(v);
  return typeof v === 'string' && text.startsWith('"') ? (JSON.parse(text) as string) : text;
}

export const nastyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 3, arbitrary: fc.array(fc.constantFrom(...NASTY), { maxLength: 12 }).map((a) => a.join('')) },
  { weight: 2, arbitrary: fc.constantFrom('', ' ', '\n', 'x', '0', '-1', 'null', 'true', 'D0123', 'C0123', '1e999') },
  { weight: 2, arbitrary: bigValue },
);

/** Any JSON value, wrong types included; big and deep ones through `bigValue`. */
export const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: nastyString },
  {
    weight: 2,
    arbitrary: fc.oneof(
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.constantFrom(0, -0, 2 ** 53, -1, 1e308),
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, [], {}) },
  { weight: 1, arbitrary: fc.dictionary(nastyString, fc.oneof(nastyString, fc.integer()), { maxKeys: 4 }) },
  { weight: 1, arbitrary: fc.array(fc.oneof(nastyString, fc.integer()), { maxLength: 5 }) },
);

type Path = Array<string | number>;

function paths(v: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  if (prefix.length) out.push(prefix);
  if (v && typeof v === 'object')
    for (const [k, c] of Object.entries(v)) paths(c, [...prefix, Array.isArray(v) ? Number(k) : k], out);
  return out;
}

function setAt(root: any, path: Path, value: unknown): void {
  let o = root;
  for (const k of path.slice(0, -1)) {
    if (!o[k] || typeof o[k] !== 'object') o[k] = {};
    o = o[k];
  }
  try {
    if (value === undefined) delete o[path.at(-1)!];
    else o[path.at(-1)!] = value;
  } catch {
    /* an earlier mutation made this path impossible (e.g. `length` of an array): skip it */
  }
}

export interface Mutation {
  /** Index into the base payload's paths (modulo their count). */
  at: number;
  /** undefined: delete the field. */
  value: unknown;
}

export const mutations = fc.array(
  fc.record({ at: fc.nat(), value: fc.option(nastyValue, { nil: undefined, freq: 6 }) }),
  { minLength: 1, maxLength: 4 },
);

/** A copy of `base` with some fields replaced by adversarial values (or removed). */
export function mutate<T>(base: T, ms: Mutation[]): T {
  const copy = structuredClone(base) as any;
  const all = paths(base);
  for (const m of ms) setAt(copy, all[m.at % all.length]!, m.value);
  return copy;
}

/** What a fuzzed request carries: a mutated valid payload, or raw garbage, as text. */
export type Shape =
  | { kind: 'mutated'; ms: Mutation[]; dupKey: boolean; twice: boolean }
  | { kind: 'raw'; text: string };

export const shapes: fc.Arbitrary<Shape> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('mutated' as const),
      ms: mutations,
      dupKey: fc.boolean(),
      twice: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('raw' as const),
      text: fc.oneof(
        fc.string({ unit: 'binary', maxLength: 200 }),
        fc.constantFrom('', 'null', '[]', '{}', '"x"', '1', '{"a":1', '{"__proto__":{"x":1}}', '\uFEFF{}'),
        bigValue.map((v) => toBody(v).replace(/\]+$|\}+$/, '')), // deep and unclosed, or a bare huge string
      ),
    }),
  },
);

/** Body text for a shape built on `base`: `dupKey` repeats a top-level key with another value (JSON allows it). */
export function bodyOf(base: Record<string, unknown>, s: Shape): string {
  if (s.kind === 'raw') return s.text;
  const text = toBody(mutate(base, s.ms));
  if (!s.dupKey || !text.startsWith('{') || text === '{}') return text;
  const key = Object.keys(base)[0]!;
  return `{${JSON.stringify(key)}:${toBody(s.ms[0]?.value ?? null)},${text.slice(1)}`;
}

/** A mutation shape that sets exactly the given paths (by name, into `base`), for the examples every run starts with. */
export function at(base: unknown, sets: Array<[string, unknown]>): Shape {
  const all = paths(base).map((p) => p.join('.'));
  return {
    kind: 'mutated',
    dupKey: false,
    twice: false,
    ms: sets.map(([path, value]) => {
      const i = all.indexOf(path);
      if (i < 0) throw new Error(`no path ${path} in the base payload`);
      return { at: i, value };
    }),
  };
}

/** Values every ingress gets at its text-bearing fields before the random runs. */
export const PINNED = [
  sentinel('deep-object'),
  sentinel('deep-array'),
  sentinel('mb-a'),
  sentinel('run-surrogate'),
  '\u0000',
  '\uD800',
  42,
  null,
  [1, 2],
  sentinel('files-10k'),
] as const;
