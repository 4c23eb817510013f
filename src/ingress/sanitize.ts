/**
 * The text rule applied at ingress to every string of an event before it is stored (README, "Input rule"):
 *   1. lone UTF-16 surrogates are replaced by U+FFFD (they cannot be encoded as UTF-8, so Postgres rejects them);
 *   2. C0 controls except TAB, LF and CR, DEL, and C1 controls are removed (NUL is refused by Postgres text and
 *      jsonb, and the others are invisible and unsafe in logs and terminals);
 *   3. Unicode noncharacters (U+FDD0..U+FDEF and U+xFFFE / U+xFFFF of every plane) are removed;
 *   4. text a person wrote (message text, display names, file names) is NFC-normalised, so the same words are the
 *      same string for the model, memory and dedupe. Ids, URLs and MIME types are not normalised: they must
 *      reach the platform again exactly as it sent them.
 * The rule is idempotent, so events may pass through it more than once (a dead letter re-run does).
 */

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const NUL = /\u0000/g;
const CONTROLS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/g;

const NONCHARACTERS = (() => {
  let cls = '\\u{FDD0}-\\u{FDEF}';
  for (let plane = 0; plane <= 0x10; plane++) {
    const base = (plane << 16) | 0xfffe;
    cls += `\\u{${base.toString(16)}}\\u{${(base + 1).toString(16)}}`;
  }
  return new RegExp(`[${cls}]`, 'gu');
})();

/** Free text a person wrote: normalised as well as cleaned. */
const HUMAN_TEXT_FIELDS = new Set(['text', 'name']);

/** Only what Postgres cannot store at all (step 1, and NUL): for JSON that is not an event (the agent API's bodies). */
export function storableString(s: string): string {
  return s.replace(LONE_SURROGATE, '\uFFFD').replace(NUL, '');
}

/** Steps 1-3: the string can be stored anywhere (Postgres text and jsonb, Redis, logs). */
export function cleanString(s: string): string {
  return s.replace(LONE_SURROGATE, '\uFFFD').replace(CONTROLS, '').replace(NONCHARACTERS, '');
}

/** Steps 1-4, for text a person wrote. */
export function sanitizeText(s: string): string {
  return cleanString(s).normalize('NFC');
}

function walk(value: unknown, field: string | undefined): unknown {
  if (typeof value === 'string')
    return field !== undefined && HUMAN_TEXT_FIELDS.has(field) ? sanitizeText(value) : cleanString(value);
  if (Array.isArray(value)) return value.map((v) => walk(v, field));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[cleanString(k)] = walk(v, k);
    return out;
  }
  return value;
}

/**
 * Every string of a stored event: text, sender, attachment names / URLs / MIME types, ids, the conversation
 * reference. `raw` (the platform payload, never stored) is left as it is.
 */
export function sanitizeEvent<T extends object & { raw?: unknown }>(event: T): T {
  const { raw, ...plain } = event;
  const clean = walk(plain, undefined) as T;
  return raw === undefined ? clean : { ...clean, raw };
}
