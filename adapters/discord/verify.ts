/**
 * Ed25519 verification of Discord interaction requests: `X-Signature-Ed25519` (hex) over
 * `X-Signature-Timestamp + raw body`, checked with the application's public key (hex, raw 32 bytes).
 * Discord probes endpoints with deliberately bad signatures and disables the endpoint if they are accepted, so
 * every doubt (missing header, malformed hex, wrong length) is a plain `false`.
 * The signed timestamp must also be recent (MAX_SKEW_SECONDS either way): a captured request replayed later, after
 * the interaction id's claim has expired, would otherwise run its command again.
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';

/** DER SubjectPublicKeyInfo header for an Ed25519 key; the raw 32-byte key follows it. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const HEX_KEY = /^[0-9a-f]{64}$/i;
const HEX_SIG = /^[0-9a-f]{128}$/i;
const UNIX_SECONDS = /^\d{1,12}$/;
/** How far the signed timestamp may be from our clock, past or future. */
export const MAX_SKEW_SECONDS = 300;

/** True when `timestamp` (unix seconds, as Discord sends it) is within MAX_SKEW_SECONDS of `nowMs`. */
export function isFreshTimestamp(timestamp: string, nowMs = Date.now()): boolean {
  if (!UNIX_SECONDS.test(timestamp)) return false;
  return Math.abs(nowMs / 1000 - Number(timestamp)) <= MAX_SKEW_SECONDS;
}

export function publicKeyFromHex(hex: string): KeyObject {
  if (!HEX_KEY.test(hex)) throw new Error('Discord public key must be 64 hex characters (the application public key)');
  return createPublicKey({
    key: Buffer.concat([ED25519_SPKI_PREFIX, Buffer.from(hex, 'hex')]),
    format: 'der',
    type: 'spki',
  });
}

/** Returns a verifier bound to one key, so the key is parsed once rather than per request. */
export function createInteractionVerifier(publicKeyHex: string, now: () => number = Date.now) {
  const key = publicKeyFromHex(publicKeyHex);
  return (signature: string | undefined, timestamp: string | undefined, body: Buffer): boolean =>
    verifyWithKey(key, signature, timestamp, body, now());
}

export function verifyWithKey(
  key: KeyObject,
  signature: string | undefined,
  timestamp: string | undefined,
  body: Buffer,
  nowMs = Date.now(),
): boolean {
  // Buffer.from(hex) silently drops bad characters, so check the shape first.
  if (!signature || !timestamp || !HEX_SIG.test(signature) || !isFreshTimestamp(timestamp, nowMs)) return false;
  try {
    return verify(null, Buffer.concat([Buffer.from(timestamp, 'utf8'), body]), key, Buffer.from(signature, 'hex'));
  } catch {
    return false;
  }
}

export function verifyDiscordSignature(
  publicKeyHex: string,
  signature: string | undefined,
  timestamp: string | undefined,
  body: Buffer,
): boolean {
  try {
    return verifyWithKey(publicKeyFromHex(publicKeyHex), signature, timestamp, body);
  } catch {
    return false;
  }
}
