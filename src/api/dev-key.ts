/**
 * Development only: one API key for the web chat, so `/chat` works on the first `npm run dev` with nothing to
 * create. Its secret is kept in DATA_DIR (0600, git-ignored) so the same key, and with it the same threads, comes
 * back after a restart; a key the database no longer knows (a reset database, a revoked key) is replaced.
 * Production never calls this (main.ts and the api module both check).
 */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Db } from '../db/client.js';
import { createApiKey, verifyApiKey } from './auth.js';

export const DEV_KEY_NAME = 'development (web chat)';
const FILE = 'dev-api-key';

export async function ensureDevApiKey(db: Db, dataDir: string): Promise<string> {
  const file = path.resolve(dataDir, FILE);
  const saved = (await readFile(file, 'utf8').catch(() => '')).trim();
  if (saved && (await verifyApiKey(db, saved))) return saved;
  const { key } = await createApiKey(db, DEV_KEY_NAME);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${key}\n`, { mode: 0o600 });
  await chmod(file, 0o600); // writeFile's mode applies only to a new file
  return key;
}
