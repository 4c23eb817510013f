/**
 * Secrets at rest (Slack installations, extra bots' tokens): AES-256-GCM with a key from the environment. Each
 * ciphertext names its key by a short fingerprint, so a rotation can read rows written under the previous key and
 * re-encrypt them under the new one. The row's own id is bound in as associated data: a ciphertext copied into
 * another row does not decrypt there.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const VERSION = 'v1';

export interface TokenCipher {
  /** Fingerprint of the key new ciphertexts are written with. */
  readonly keyId: string;
  encrypt(plain: string, boundTo: string): string;
  decrypt(sealed: string, boundTo: string): string;
  /** The fingerprint a ciphertext was written with. */
  keyIdOf(sealed: string): string;
}

/** A 32-byte key given as 64 hex digits or base64 (44 characters); anything else is refused by name, not value. */
export function parseKey(text: string, name: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (key.length !== 32) throw new Error(`${name}: must be 32 bytes, as 64 hex digits or base64`);
  return key;
}

const fingerprint = (key: Buffer) => createHash('sha256').update(key).digest('hex').slice(0, 12);

/** `current` encrypts; `current` and `previous` both decrypt (during a key rotation). */
export function createTokenCipher(current: Buffer, previous: Buffer[] = []): TokenCipher {
  const keys = new Map([current, ...previous].map((k) => [fingerprint(k), k]));
  const keyId = fingerprint(current);
  return {
    keyId,
    encrypt(plain, boundTo) {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', current, iv);
      c.setAAD(Buffer.from(boundTo, 'utf8'));
      const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
      return [VERSION, keyId, iv.toString('base64'), c.getAuthTag().toString('base64'), body.toString('base64')].join(
        ':',
      );
    },
    decrypt(sealed, boundTo) {
      const [version, id, iv, tag, body] = sealed.split(':');
      if (version !== VERSION || !id || !iv || !tag || body === undefined) throw new Error('not a sealed token');
      const key = keys.get(id);
      if (!key) throw new Error(`sealed with an unknown key (${id}); set the previous key to read it`);
      const d = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
      d.setAAD(Buffer.from(boundTo, 'utf8'));
      d.setAuthTag(Buffer.from(tag, 'base64'));
      return Buffer.concat([d.update(Buffer.from(body, 'base64')), d.final()]).toString('utf8');
    },
    keyIdOf: (sealed) => sealed.split(':')[1] ?? '',
  };
}
