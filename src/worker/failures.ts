/**
 * Permanent or transient: whether retrying a failed turn can ever help. Transient failures (connections refused
 * or reset, timeouts, 40001, an administrator shutting the database down, Redis away, anything unknown) retry for
 * as long as it takes, as always. Permanent ones are the batch's own fault — a value the database refuses, a row
 * that breaks a constraint, input that does not parse — and are dead-lettered after a bounded number of attempts
 * (src/worker/deadletter.ts), so one bad message can never hold its conversation for ever.
 */
import { StaleTurnError } from './commit.js';

/** SQLSTATE classes of a bad value or statement: 22 data exception, 23 integrity violation, 42 syntax / access rule. */
const PERMANENT_CLASSES = new Set(['22', '23', '42']);
/**
 * Class 42 codes that say the schema is not what this code expects (a rolling deploy ahead of its migration, a
 * table being renamed): every turn fails alike, and they heal by themselves, so they retry like an outage.
 */
const SCHEMA_MISMATCH = new Set(['42P01', '42703', '42883', '42704', '42P02', '42501']);
const PERMANENT_NAMES = new Set(['ZodError', 'SyntaxError', 'PoisonEventError']);

/** A batch the turn cannot be run for, whatever the state of the infrastructure. */
export class PoisonEventError extends Error {
  override name = 'PoisonEventError';
}

function sqlState(err: unknown): string | undefined {
  for (
    let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0;
    e && depth < 4;
    e = e.cause as typeof e, depth++
  ) {
    if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) return e.code;
  }
  return undefined;
}

function names(err: unknown): string[] {
  const out: string[] = [];
  for (
    let e = err as { name?: unknown; cause?: unknown } | undefined, depth = 0;
    e && depth < 4;
    e = e.cause as typeof e, depth++
  ) {
    if (typeof e.name === 'string') out.push(e.name);
  }
  return out;
}

export function isPermanentFailure(err: unknown): boolean {
  if (err instanceof StaleTurnError) return false;
  const state = sqlState(err);
  if (state) return PERMANENT_CLASSES.has(state.slice(0, 2)) && !SCHEMA_MISMATCH.has(state);
  return names(err).some((n) => PERMANENT_NAMES.has(n));
}

/** A short reason to store and show admins: the SQLSTATE or the error class, never a message. */
export function failureReason(err: unknown): string {
  const state = sqlState(err);
  if (state) return `SQLSTATE ${state}`;
  return names(err).find((n) => PERMANENT_NAMES.has(n)) ?? names(err)[0] ?? 'Error';
}
