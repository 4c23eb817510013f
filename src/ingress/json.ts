import { storableString } from './sanitize.js';

/**
 * JSON from the network, parsed with a bound on nesting. `JSON.parse` itself copes with any depth, but everything
 * after it recurses (zod, JSON.stringify into Redis or jsonb, pino): a 10,000-deep body would blow the stack there
 * and surface as a 5xx. No platform nests anywhere near this deep, so deeper input is refused as malformed.
 */
export const MAX_JSON_DEPTH = 64;

export class JsonTooDeepError extends SyntaxError {
  constructor(readonly maxDepth: number) {
    super(`JSON nested deeper than ${maxDepth} levels`);
    this.name = 'JsonTooDeepError';
  }
}

/** True when `text` opens more than `max` arrays/objects at once. One linear pass; brackets in strings are skipped. */
export function jsonDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/** NUL and unpaired surrogates: valid in a JS string, refused by Postgres jsonb and text columns. */
const UNSTORABLE = /\u0000|\p{Cs}/u;

export class UnstorableTextError extends SyntaxError {
  constructor() {
    super('JSON object keys must not contain NUL characters or unpaired surrogates');
    this.name = 'UnstorableTextError';
  }
}

/**
 * `JSON.parse` that throws a SyntaxError for input nested deeper than `maxDepth` (JsonTooDeepError). With
 * `storable`, string values are made storable (`storableString`: NUL removed, unpaired surrogates replaced; the rest of the input rule applies later, to
 * events: src/ingress/sanitize.ts), so one odd character in a message does not cost the person their answer; a
 * key a database cannot store is still refused (UnstorableTextError).
 */
export function parseJson(input: Buffer | string, o: { maxDepth?: number; storable?: boolean } = {}): unknown {
  const text = typeof input === 'string' ? input : input.toString('utf8');
  const maxDepth = o.maxDepth ?? MAX_JSON_DEPTH;
  if (jsonDeeperThan(text, maxDepth)) throw new JsonTooDeepError(maxDepth);
  if (!o.storable) return JSON.parse(text);
  return JSON.parse(text, (key, value: unknown) => {
    if (UNSTORABLE.test(key)) throw new UnstorableTextError();
    return typeof value === 'string' && UNSTORABLE.test(value) ? storableString(value) : value;
  });
}
