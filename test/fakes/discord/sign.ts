/** A test Ed25519 key pair and Discord-style request signing (`X-Signature-Ed25519` over timestamp + body). */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

export interface TestSigner {
  publicKeyHex: string;
  privateKey: KeyObject;
  headers(body: string, timestamp?: string): Record<string, string>;
}

export function createSigner(): TestSigner {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const jwk = publicKey.export({ format: 'jwk' });
  const publicKeyHex = Buffer.from(jwk.x!, 'base64url').toString('hex');
  return {
    publicKeyHex,
    privateKey,
    headers(body, timestamp = String(Math.floor(Date.now() / 1000))) {
      const sig = sign(null, Buffer.from(timestamp + body), privateKey).toString('hex');
      return { 'x-signature-ed25519': sig, 'x-signature-timestamp': timestamp, 'content-type': 'application/json' };
    },
  };
}
