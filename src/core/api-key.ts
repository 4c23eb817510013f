/**
 * Shared-secret checks in constant time: every adapter's signature / secret token / API key comparison, the agent
 * API's key check and the queue board's admin key go through `secretsEqual`. Here rather than in adapters/kit
 * because src/ reaches it too, and core is the one place both may import.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (v: string | Buffer) => createHash('sha256').update(v).digest();

/**
 * Both sides are hashed first: `timingSafeEqual` needs equal lengths, and an early length check would leak the
 * secret's length. False for a missing or empty presented value, or an empty expected one.
 */
export function secretsEqual(given: string | Buffer | undefined, expected: string | Buffer): boolean {
  if (!given?.length || !expected.length) return false;
  return timingSafeEqual(digest(given), digest(expected));
}

/** The local channel's API key, the admin key of the queue board. */
export function apiKeyMatches(given: string | undefined, expected: string | undefined): boolean {
  if (!expected) return true; // no key configured: open (development only; config refuses this in production)
  return secretsEqual(given, expected);
}
