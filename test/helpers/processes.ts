/** Runs gateway / worker roles as separate OS processes (the real entry point), for multi-process tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../../src/cli/dev-services.js';
import { REDIS_URL } from './services.js';

export interface RoleProcess {
  role: string;
  url: string;
  proc: ChildProcess;
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/** What every role process of one test shares: its database and key prefix, the offline model, no rate limit. */
export function roleEnv(
  db: { url: string },
  prefix: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    DATABASE_URL: db.url,
    REDIS_URL,
    KEY_PREFIX: prefix,
    OFFLINE_MODEL: 'true',
    RATE_LIMIT_PER_MINUTE: '0',
    ...extra,
  };
}

export async function spawnRole(
  role: 'gateway' | 'worker' | 'all',
  env: Record<string, string>,
  startTimeoutMs = 30_000,
): Promise<RoleProcess> {
  const port = await freePort();
  // NODE_ARGS: extra node flags for profiling (e.g. --cpu-prof), which NODE_OPTIONS does not allow.
  const nodeArgs = env.NODE_ARGS ? env.NODE_ARGS.split(' ') : [];
  // ROLE_ENTRY=dist: the built bundle (`npm run build`), as `npm start` and the image run it, not tsx.
  const entry = env.ROLE_ENTRY === 'dist' ? ['dist/gateway.mjs'] : ['--import', 'tsx', 'src/cli/main.ts'];
  const proc = spawn(process.execPath, [...nodeArgs, ...entry, role], {
    env: { ...process.env, NODE_ENV: 'development', LOG_LEVEL: 'warn', HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  proc.stderr?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + startTimeoutMs;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`${role} exited with ${proc.exitCode}:\n${out}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error(`${role} did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    role,
    url,
    proc,
    output: () => out,
    kill: (signal = 'SIGTERM') =>
      new Promise((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve(proc.exitCode);
        proc.once('exit', (code) => resolve(code));
        proc.kill(signal);
      }),
  };
}
