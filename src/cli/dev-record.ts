/**
 * Development only: `npm run dev` records the database and Redis it started (embedded Postgres, spawned
 * redis-server) and its HTTP address in DATA_DIR, so the command-line tools (`npm run api-keys`, `npm run chat`)
 * talk to the running gateway's services instead of starting a second embedded Postgres on the same data
 * directory, which cannot work while the first holds it. The file is 0600 and removed on a clean stop; a record
 * whose process is gone is ignored.
 */
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

const FILE = 'dev-process.json';

const recordSchema = z.object({
  pid: z.number().int().positive(),
  url: z.string().url().optional(),
  databaseUrl: z.string().optional(),
  redisUrl: z.string().optional(),
});
export type DevRecord = z.infer<typeof recordSchema>;

export async function writeDevRecord(dataDir: string, record: DevRecord): Promise<() => Promise<void>> {
  const file = path.resolve(dataDir, FILE);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify(record), { mode: 0o600 });
  await chmod(file, 0o600);
  return async () => {
    // Only our own record: a second dev process may have replaced it.
    if ((await readDevRecord(dataDir))?.pid === record.pid) await rm(file, { force: true });
  };
}

/** The running dev process' record, or null when there is none or its process has exited. */
export async function readDevRecord(dataDir: string): Promise<DevRecord | null> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path.resolve(dataDir, FILE), 'utf8'));
  } catch {
    return null;
  }
  const parsed = recordSchema.safeParse(json);
  if (!parsed.success) return null;
  try {
    process.kill(parsed.data.pid, 0);
  } catch (err) {
    // EPERM: alive but another user's process; anything else: gone.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return null;
  }
  return parsed.data;
}
