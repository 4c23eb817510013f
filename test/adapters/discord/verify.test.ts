import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  createInteractionVerifier,
  publicKeyFromHex,
  verifyDiscordSignature,
} from '../../../adapters/discord/verify.js';
import { createSigner, loadFixture } from '../../fakes/discord/index.js';

const signer = createSigner();
const body = JSON.stringify(loadFixture('interaction_ping.json'));

describe('discord ed25519 verification', () => {
  it('accepts a request signed with the application key', () => {
    const h = signer.headers(body);
    expect(
      verifyDiscordSignature(
        signer.publicKeyHex,
        h['x-signature-ed25519'],
        h['x-signature-timestamp'],
        Buffer.from(body),
      ),
    ).toBe(true);
  });

  it('rejects a signature made with another key (Discord sends these on purpose)', () => {
    const forger = createSigner();
    const h = forger.headers(body);
    expect(
      verifyDiscordSignature(
        signer.publicKeyHex,
        h['x-signature-ed25519'],
        h['x-signature-timestamp'],
        Buffer.from(body),
      ),
    ).toBe(false);
  });

  it('rejects a changed body or timestamp', () => {
    const h = signer.headers(body);
    const verify = createInteractionVerifier(signer.publicKeyHex);
    expect(verify(h['x-signature-ed25519'], h['x-signature-timestamp'], Buffer.from(body + ' '))).toBe(false);
    expect(verify(h['x-signature-ed25519'], String(Number(h['x-signature-timestamp']) + 1), Buffer.from(body))).toBe(
      false,
    );
  });

  it('rejects missing or malformed headers without throwing', () => {
    const h = signer.headers(body);
    const verify = createInteractionVerifier(signer.publicKeyHex);
    expect(verify(undefined, h['x-signature-timestamp'], Buffer.from(body))).toBe(false);
    expect(verify(h['x-signature-ed25519'], undefined, Buffer.from(body))).toBe(false);
    expect(verify('zz' + h['x-signature-ed25519']!.slice(2), h['x-signature-timestamp'], Buffer.from(body))).toBe(
      false,
    );
    expect(verify(h['x-signature-ed25519']!.slice(0, 64), h['x-signature-timestamp'], Buffer.from(body))).toBe(false);
    expect(verify('', '', Buffer.alloc(0))).toBe(false);
  });

  it('rejects a validly signed timestamp more than 5 minutes off, past or future (replays)', () => {
    const verify = createInteractionVerifier(signer.publicKeyHex);
    const now = Math.floor(Date.now() / 1000);
    for (const [offset, ok] of [
      [-600, false],
      [-301 - 5, false],
      [-240, true],
      [0, true],
      [240, true],
      [306, false],
      [3600, false],
    ] as const) {
      const h = signer.headers(body, String(now + offset));
      expect(verify(h['x-signature-ed25519'], h['x-signature-timestamp'], Buffer.from(body)), `offset ${offset}s`).toBe(
        ok,
      );
    }
    // Not a number: refused rather than compared as NaN.
    const odd = signer.headers(body, '1e3');
    expect(verify(odd['x-signature-ed25519'], odd['x-signature-timestamp'], Buffer.from(body))).toBe(false);
  });

  it('refuses a public key that is not 32 bytes of hex', () => {
    expect(() => publicKeyFromHex('abc')).toThrow(/64 hex/);
    expect(verifyDiscordSignature('not-a-key', 'a'.repeat(128), '1', Buffer.from('x'))).toBe(false);
    const raw = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x!;
    expect(() => publicKeyFromHex(Buffer.from(raw, 'base64url').toString('hex'))).not.toThrow();
  });
});
