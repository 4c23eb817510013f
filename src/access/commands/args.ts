/**
 * Argument grammars as zod schemas over the raw argument text (CommandDef.args): the text is split into words and
 * read by a small function; `fail(message)` turns into a zod issue, which the registry answers with the usage.
 * User arguments stay raw tokens here (syntax differs per platform) and are resolved in `run` (mentions.ts).
 */
import { z } from 'zod';

class ArgProblem extends Error {}

export function fail(message: string): never {
  throw new ArgProblem(message);
}

export function grammar<T>(read: (words: string[], raw: string) => T): z.ZodType<T, string> {
  return z.string().transform((raw, ctx) => {
    try {
      return read(raw.trim().split(/\s+/).filter(Boolean), raw.trim());
    } catch (err) {
      if (!(err instanceof ArgProblem)) throw err;
      ctx.issues.push({ code: 'custom', message: err.message, input: raw });
      return z.NEVER;
    }
  });
}

/** No arguments (anything given is ignored: `/status please` still works). */
export const none = grammar(() => undefined);

/** An optional count, 1..max (default `def`). */
export function count(def: number, max: number) {
  return grammar((w) => {
    if (!w.length) return def;
    const n = Number(w[0]);
    if (w.length > 1 || !Number.isInteger(n) || n < 1 || n > max) fail(`Give a number from 1 to ${max}.`);
    return n;
  });
}

/** Exactly one user. */
export const oneUser = grammar((w) => {
  if (w.length !== 1) fail('Name one user.');
  return w[0]!;
});

/** A user, then optional free text (a reason). */
export const userAndReason = grammar((w, raw) => {
  if (!w.length) fail('Name a user.');
  return { user: w[0]!, reason: raw.slice(raw.indexOf(w[0]!) + w[0]!.length).trim() || undefined };
});

/** Free text that must not be empty. */
export const text = (what: string) =>
  grammar((_w, raw) => {
    if (!raw) fail(`Give the ${what}.`);
    return raw;
  });
