/**
 * API keys: `gwk_<id>_<secret>`. The id is the primary key (and the tenant every thread, run and store item is
 * scoped to); only SHA-256(secret) is stored, compared in constant time.
 *
 * Why a fast hash and not bcrypt/scrypt: the secret is 32 random bytes (256 bits), not a human password, so
 * nobody can brute-force it from a leaked hash whatever the hash speed; a slow KDF would only add tens of
 * milliseconds to every API request. Create, list and revoke are plain functions so the admin commands can call
 * them too; `scripts/api-keys.ts` is the CLI.
 */
import { createHash, randomBytes } from 'node:crypto';
import { and, asc, eq, isNull } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { retrySerializable } from '../db/retry.js';
import { secretsEqual } from '../core/api-key.js';
import { apiKeys } from './schema.js';

const KEY_RE = /^gwk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export interface ApiKeyInfo {
  id: string;
  name: string;
  createdAt: Date;
  revokedAt: Date | null;
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Creates a key. The returned `key` is the only time the secret exists outside the caller: show it once. */
export async function createApiKey(db: Db, name: string): Promise<{ id: string; name: string; key: string }> {
  const clean = name.trim();
  if (!clean || clean.length > 100) throw new Error('an API key needs a name of 1 to 100 characters');
  const id = randomBytes(6).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  await db.insert(apiKeys).values({ id, name: clean, secretHash: sha256(secret).toString('hex') });
  return { id, name: clean, key: `gwk_${id}_${secret}` };
}

/** Revokes a key; true if it existed and was active. Takes effect on the next request. */
export async function revokeApiKey(db: Db, id: string): Promise<boolean> {
  const rows = await db
    .update(apiKeys)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
    .returning({ id: apiKeys.id });
  return rows.length > 0;
}

export async function listApiKeys(db: Db): Promise<ApiKeyInfo[]> {
  return db
    .select({ id: apiKeys.id, name: apiKeys.name, createdAt: apiKeys.createdAt, revokedAt: apiKeys.revokedAt })
    .from(apiKeys)
    .orderBy(asc(apiKeys.createdAt));
}

/** The key's id and name if `presented` is a valid, unrevoked key; null otherwise. One primary-key read. */
export async function verifyApiKey(
  db: Db,
  presented: string | undefined,
): Promise<{ id: string; name: string } | null> {
  const m = presented ? KEY_RE.exec(presented) : null;
  if (!m) return null;
  const [row] = await retrySerializable(() => db.select().from(apiKeys).where(eq(apiKeys.id, m[1]!)));
  if (!row || row.revokedAt) return null;
  const expected = Buffer.from(row.secretHash, 'hex');
  const given = sha256(m[2]!);
  return secretsEqual(given, expected) ? { id: row.id, name: row.name } : null;
}
