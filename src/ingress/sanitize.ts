/**
 * The text rule applied at ingress to every string of an event before it is stored (README, "Input rule"):
 *   1. lone UTF-16 surrogates are replaced by U+FFFD (they cannot be encoded as UTF-8, so Postgres rejects them);
 *   2. C0 controls except TAB, LF and CR, DEL, and C1 controls are removed (NUL is refused by Postgres text and
 *      jsonb, and the others are invisible and unsafe in logs and terminals);
 *   3. Unicode noncharacters (U+FDD0..U+FDEF and U+xFFFE / U+xFFFF of every plane) are removed;
 *   4. text a person wrote (message text, display names, file names) is NFC-normalised, so the same words are the
 *      same string for the model, memory and dedupe. Ids, URLs and MIME types are not normalised: they must
 *      reach the platform again exactly as it sent them;
 *   5. bidi embeddings, overrides and isolates (U+202A..U+202E, U+2066..U+2069) are removed from names, where they
 *      only serve to spoof ("Ann" shown for another "Ann", "photo\u202Egnp.exe" shown as "photoexe.png"); in message
 *      text, where right-to-left writers use them, each one left open is closed at the end of its paragraph, so it
 *      cannot reorder what a client or an admin's view shows after it. Bidi marks (LRM, RLM, ALM) have no scope and
 *      stay.
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

const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/g;
/** The controls that open a scope (all but PDF and PDI). */
const BIDI_OPENERS = /[\u202A\u202B\u202D\u202E\u2066-\u2068]/;
/** Paragraph separators of the bidi algorithm that survive step 2; an embedding never outlives its paragraph. */
const PARAGRAPH_END = new Set(['\n', '\r', '\u2029']);
const PDF = '\u202C';
const PDI = '\u2069';
/** The bidi algorithm's max_depth: an opener deeper than this has no effect, so it is dropped rather than closed. */
const MAX_BIDI_DEPTH = 125;

/**
 * Step 5 for message text: close every embedding, override or isolate still open at the end of its paragraph
 * (PDF for the first kind, PDI for isolates, innermost first), as the bidi algorithm pairs them: a PDF closes
 * only an embedding above the innermost isolate, a PDI closes its isolate and whatever is open inside it.
 */
function closeBidi(s: string): string {
  if (!BIDI_OPENERS.test(s)) return s;
  let out = '';
  const open: string[] = []; // the closer each open opener needs, innermost last
  const closeAll = () => {
    for (let i = open.length - 1; i >= 0; i--) out += open[i];
    open.length = 0;
  };
  for (const ch of s) {
    if (BIDI_OPENERS.test(ch)) {
      if (open.length >= MAX_BIDI_DEPTH) continue;
      open.push(ch >= '\u2066' ? PDI : PDF); // isolates are closed by PDI, embeddings and overrides by PDF
    } else if (ch === PDF) {
      if (open.at(-1) === PDF) open.pop();
    } else if (ch === PDI) {
      const at = open.lastIndexOf(PDI);
      if (at >= 0) open.length = at;
    } else if (PARAGRAPH_END.has(ch)) closeAll();
    out += ch;
  }
  closeAll();
  return out;
}

/** Only what Postgres cannot store at all (step 1, and NUL): for JSON that is not an event (the agent API's bodies). */
export function storableString(s: string): string {
  return s.replace(LONE_SURROGATE, '\uFFFD').replace(NUL, '');
}

/** Steps 1-3: the string can be stored anywhere (Postgres text and jsonb, Redis, logs). */
export function cleanString(s: string): string {
  return s.replace(LONE_SURROGATE, '\uFFFD').replace(CONTROLS, '').replace(NONCHARACTERS, '');
}

/** Steps 1-5, for message text. */
export function sanitizeText(s: string): string {
  return closeBidi(cleanString(s).normalize('NFC'));
}

/** Steps 1-5, for a display or file name. */
export function sanitizeName(s: string): string {
  return cleanString(s).replace(BIDI_CONTROLS, '').normalize('NFC');
}

/** Free text a person wrote, by field: normalised as well as cleaned. */
const HUMAN_TEXT: Record<string, (s: string) => string> = { text: sanitizeText, name: sanitizeName };

function walk(value: unknown, field: string | undefined): unknown {
  if (typeof value === 'string')
    return (field !== undefined && Object.hasOwn(HUMAN_TEXT, field) ? HUMAN_TEXT[field]! : cleanString)(value);
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
