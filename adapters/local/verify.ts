/** The local channel's API key check (required in production), in constant time. */
import { secretsEqual } from '../kit/secret.js';

export function apiKeyMatches(given: string | undefined, expected: string | undefined): boolean {
  if (!expected) return true; // no key configured: open (development only; config refuses this in production)
  return secretsEqual(given, expected);
}
