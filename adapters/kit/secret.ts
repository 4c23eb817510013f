/**
 * Constant-time comparison of a presented secret (API key, webhook secret token, signature) with the expected one.
 * Both sides are hashed first: `timingSafeEqual` needs equal lengths, and an early length check would leak the
 * secret's length. Every adapter (and the agent API's key check) compares through this one function.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (v: string | Buffer) => createHash('sha256').update(v).digest();

/** False for a missing or empty presented value, or an empty expected one (an empty secret must not match ""). */
export function secretsEqual(given: string | Buffer | undefined, expected: string | Buffer): boolean {
  if (!given?.length || !expected.length) return false;
  return timingSafeEqual(digest(given), digest(expected));
}
