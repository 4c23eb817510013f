/**
 * Ed25519 verification of Discord interaction requests: `X-Signature-Ed25519` (hex) over
 * `X-Signature-Timestamp + raw body`, checked with the application's public key (hex, raw 32 bytes).
 * Discord probes endpoints with deliberately bad signatures and disables the endpoint if they are accepted, so
 * every doubt (missing header, malformed hex, wrong length) is a plain `false`.
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';

/** DER SubjectPublicKeyInfo header for an Ed25519 key; the raw 32-byte key follows it. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const HEX_KEY = /^[0-9a-f]{64}$/i;
const HEX_SIG = /^[0-9a-f]{128}$/i;

export function publicKeyFromHex(hex: string): KeyObject {
  if (!HEX_KEY.test(hex)) throw new Error('Discord public key must be 64 hex characters (the application public key)');
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, Buffer.from(hex, 'hex')]), format: 'der', type: 'spki' });
}

/** Returns a verifier bound to one key, so the key is parsed once rather than per request. */
export function createInteractionVerifier(publicKeyHex: string) {
  const key = publicKeyFromHex(publicKeyHex);
  return (signature: string | undefined, timestamp: string | undefined, body: Buffer): boolean =>
    verifyWithKey(key, signature, timestamp, body);
}

export function verifyWithKey(key: KeyObject, signature: string | undefined, timestamp: string | undefined, body: Buffer): boolean {
  // Buffer.from(hex) silently drops bad characters, so check the shape first.
  if (!signature || !timestamp || !HEX_SIG.test(signature)) return false;
  try {
    return verify(null, Buffer.concat([Buffer.from(timestamp, 'utf8'), body]), key, Buffer.from(signature, 'hex'));
  } catch {
    return false;
  }
}

export function verifyDiscordSignature(publicKeyHex: string, signature: string | undefined, timestamp: string | undefined, body: Buffer): boolean {
  try {
    return verifyWithKey(publicKeyFromHex(publicKeyHex), signature, timestamp, body);
  } catch {
    return false;
  }
}
