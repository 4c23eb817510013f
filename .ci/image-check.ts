/**
 * `npm run image:check`: builds the Dockerfile WITHOUT a container engine and runs what it built.
 *
 * This machine has no Docker engine, so `docker build` cannot run here. Rather than trust the Dockerfile unread,
 * this executes its instructions one by one: every stage gets a folder as its filesystem, COPY copies (honouring
 * .dockerignore and --from), RUN runs with the stage's ENV, and the final stage is then started the way the image
 * would start it — ENTRYPOINT + `migrate`, then ENTRYPOINT + CMD, as an unprivileged user, probed with the
 * image's own HEALTHCHECK command, and asked one question through the local channel. The base image is replaced
 * by this machine's Node.js (checked to be the same major version). What it cannot show: the base image's own
 * contents, layer sizes, and anything the engine does (the GitHub workflow builds the real image).
 *
 * Handles the instructions our Dockerfile uses; anything else fails loudly rather than being skipped.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmod, cp, mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../src/cli/dev-services.js';
import { createTestDatabase, REDIS_URL, uniqueName } from '../test/helpers/services.js';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
/** As root, the image's processes run as `nobody` (the image's USER is not root); otherwise as ourselves. */
const UNPRIVILEGED = process.getuid?.() === 0 ? 65534 : undefined;
const LOCAL_KEY = 'image-check-local-key-0123456789';

interface Stage {
  name: string;
  root: string;
  workdir: string;
  env: Record<string, string>;
  user?: string;
  entrypoint: string[];
  cmd: string[];
  healthcheck: string[];
}

/** Dockerfile lines: comments dropped, `\` continuations joined. */
function instructions(text: string): { op: string; args: string }[] {
  const out: { op: string; args: string }[] = [];
  let buf = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!buf && (!line || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue;
    buf += (buf ? ' ' : '') + line.replace(/\\$/, '').trim();
    if (line.endsWith('\\')) continue;
    const [, op, args] = /^(\S+)\s*(.*)$/.exec(buf)!;
    out.push({ op: op!.toUpperCase(), args: args! });
    buf = '';
  }
  return out;
}

const json = (s: string): string[] => JSON.parse(s) as string[];
const inStage = (st: Stage, p: string) => path.join(st.root, path.isAbsolute(p) ? p : path.join(st.workdir, p));

/** .dockerignore patterns as ours uses them: names, folders and `*` globs (the full syntax is not needed). */
function matches(rel: string, pattern: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '[^/]*')}(/.*)?$`);
  return re.test(rel);
}

async function ignored(): Promise<string[]> {
  const text = await readFile(path.join(repo, '.dockerignore'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

async function copy(from: string, to: string, skip: (rel: string) => boolean, rel = ''): Promise<void> {
  if (skip(rel)) return;
  const entries = await readdir(from, { withFileTypes: true }).catch(() => null);
  if (!entries) {
    await mkdir(path.dirname(to), { recursive: true });
    await cp(from, to);
    return;
  }
  await mkdir(to, { recursive: true });
  for (const e of entries)
    await copy(path.join(from, e.name), path.join(to, e.name), skip, rel ? `${rel}/${e.name}` : e.name);
}

function asUser(cmd: string, args: string[], uid: number | undefined): [string, string[]] {
  return uid === undefined
    ? [cmd, args]
    : ['setpriv', [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', cmd, ...args]];
}

function run(cmd: string, args: string[], opts: { cwd: string; env: Record<string, string>; uid?: number }): void {
  const [file, argv] = asUser(cmd, args, opts.uid);
  const r = spawnSync(file, argv, { cwd: opts.cwd, env: opts.env, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status}`);
}

async function build(): Promise<{ stage: Stage; dir: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'image-check-'));
  const stages = new Map<string, Stage>();
  const patterns = await ignored();
  const skipIgnored = (rel: string) => rel !== '' && patterns.some((p) => matches(rel, p));
  let st: Stage | undefined;
  for (const { op, args } of instructions(await readFile(path.join(repo, 'Dockerfile'), 'utf8'))) {
    console.log(`image-check> ${op} ${args}`);
    if (op === 'FROM') {
      const [image, , name] = args.split(/\s+/);
      const major = /^node:(\d+)/.exec(image!)?.[1];
      if (major && process.versions.node.split('.')[0] !== major)
        throw new Error(`base image ${image}, but this Node.js is ${process.version}`);
      const stageName = name ?? String(stages.size);
      st = {
        name: stageName,
        root: path.join(dir, stageName),
        workdir: '/',
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp' },
        entrypoint: [],
        cmd: [],
        healthcheck: [],
      };
      await mkdir(st.root, { recursive: true });
      stages.set(stageName, st);
      continue;
    }
    if (!st) throw new Error(`${op} before FROM`);
    if (op === 'WORKDIR') {
      st.workdir = path.resolve(st.workdir, args);
      await mkdir(inStage(st, st.workdir), { recursive: true });
    } else if (op === 'ENV') {
      for (const m of args.matchAll(/(\w+)=("[^"]*"|\S+)/g)) st.env[m[1]!] = m[2]!.replace(/^"|"$/g, '');
    } else if (op === 'COPY') {
      const words = args.split(/\s+/);
      const from = words.find((w) => w.startsWith('--from='))?.slice(7);
      const paths = words.filter((w) => !w.startsWith('--'));
      const dest = paths.pop()!;
      const intoDir = dest.endsWith('/') || paths.length > 1;
      for (const src of paths) {
        const source = from ? inStage(stages.get(from)!, src) : path.join(repo, src);
        const target = intoDir ? path.join(inStage(st, dest), path.basename(src)) : inStage(st, dest);
        await copy(source, target, from ? () => false : (rel) => skipIgnored(path.join(src, rel).replace(/\/$/, '')));
      }
    } else if (op === 'RUN') {
      run('bash', ['-euo', 'pipefail', '-c', args], { cwd: inStage(st, st.workdir), env: st.env });
    } else if (op === 'USER') st.user = args;
    else if (op === 'ENTRYPOINT') st.entrypoint = json(args);
    else if (op === 'CMD') st.cmd = json(args);
    else if (op === 'HEALTHCHECK') st.healthcheck = json(args.slice(args.indexOf('CMD') + 3).trim());
    else if (op !== 'EXPOSE') throw new Error(`image-check does not know ${op}`);
  }
  if (!st) throw new Error('no stage');
  return { stage: st, dir };
}

async function main(): Promise<void> {
  const { stage, dir } = await build();
  if (!stage.user || stage.user === 'root') throw new Error('the runtime stage must not run as root');
  await chmod(dir, 0o755);
  spawnSync('chmod', ['-R', 'a+rX', dir]);
  const db = await createTestDatabase();
  const port = await freePort();
  const app = inStage(stage, stage.workdir);
  const env = {
    ...stage.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: db.url,
    REDIS_URL,
    KEY_PREFIX: uniqueName('imagecheck'),
    OFFLINE_MODEL: 'true',
    WEB_CHAT: 'true',
    LOG_LEVEL: 'warn',
    LOCAL_CHANNEL: 'true',
    LOCAL_API_KEY: LOCAL_KEY,
  };
  const [bin, ...entry] = stage.entrypoint;
  try {
    console.log('image-check> migrate');
    run(bin!, [...entry, 'migrate'], { cwd: app, env, uid: UNPRIVILEGED });
    console.log(`image-check> start ${stage.cmd.join(' ')} as uid ${UNPRIVILEGED ?? process.getuid?.()}`);
    const [file, argv] = asUser(bin!, [...entry, ...stage.cmd], UNPRIVILEGED);
    const proc = spawn(file, argv, { cwd: app, env, stdio: 'inherit' });
    try {
      const [hbin, ...hargs] = stage.healthcheck;
      let healthy = false;
      for (let i = 0; i < 60 && !healthy; i++) {
        await new Promise((r) => setTimeout(r, 500));
        healthy = spawnSync(hbin!, hargs, { cwd: app, env }).status === 0;
      }
      if (!healthy) throw new Error('HEALTHCHECK never passed');
      const base = `http://127.0.0.1:${port}`;
      const res = await fetch(`${base}/local/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': LOCAL_KEY },
        body: JSON.stringify({ conversation: 'image', user: 'u', text: 'hello from the image', wait: true }),
      });
      const body = (await res.json()) as { replies?: { text: string }[] };
      if (body.replies?.[0]?.text !== 'Echo: [u] hello from the image')
        throw new Error(`unexpected answer: ${JSON.stringify(body)}`);
      const chat = await fetch(`${base}/chat`);
      if (chat.status !== 200 || !(await chat.text()).includes('chat.js'))
        throw new Error(`web chat answered ${chat.status}, not its page`);
      console.log('image-check> healthy, answered through the local channel, web chat served');
    } finally {
      proc.kill('SIGTERM');
      const code = await new Promise<number | null>((r) => proc.on('exit', r));
      // biome-ignore lint/correctness/noUnsafeFinally: a runtime that does not stop cleanly must fail the check
      if (code !== 0) throw new Error(`the runtime exited with ${code} on SIGTERM`);
    }
    console.log('image-check> OK');
  } finally {
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  console.error(`image-check FAILED: ${err.message}`);
  process.exit(1);
});
