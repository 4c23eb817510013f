/** A shared-secret check (the local channel's API key, the admin key of the queue board), in constant time. */
import { createHash, timingSafeEqual } from 'node:crypto';

export function apiKeyMatches(given: string | undefined, expected: string | undefined): boolean {
  if (!expected) return true; // no key configured: open (development only; config refuses this in production)
  if (!given) return false;
  // Hash both sides so lengths match and the comparison leaks nothing about the key's length.
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
