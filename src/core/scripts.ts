/**
 * The gateway's Redis Lua scripts: one `.lua` file each in ./scripts, read from disk once per process and
 * registered on each connection with ioredis `defineCommand` (EVALSHA, falling back to EVAL after a Redis
 * restart or flush dropped the script cache). They are read from the source tree, built code included (the image
 * copies src/core/scripts).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { appPath } from './app-root.js';
import type { Redis } from 'ioredis';

export const SCRIPT_NAMES = [
  'inbox-submit',
  'inbox-start-turn',
  'inbox-ack',
  'count-failure',
  'token-bucket',
  'count-once',
  'reserve-slot',
  'lease-renew',
  'delete-if-equals',
  'hash-clear-if-unchanged',
  'local-send',
  'hash-set-ttl',
  'publish-kept',
] as const;
export type ScriptName = (typeof SCRIPT_NAMES)[number];

/** Where the .lua files are. */
export function scriptsDir(): string {
  const dir = appPath('src/core/scripts');
  if (!existsSync(dir)) throw new Error(`Redis scripts missing at ${dir}`);
  return dir;
}

let sources: Map<ScriptName, string> | undefined;

function loadSources(): Map<ScriptName, string> {
  if (!sources) {
    const dir = scriptsDir();
    sources = new Map(SCRIPT_NAMES.map((n) => [n, readFileSync(path.join(dir, `${n}.lua`), 'utf8')]));
  }
  return sources;
}

/** `inbox-submit` -> `gwInboxSubmit`: a method name that cannot clash with a Redis command. */
const commandName = (name: ScriptName) => `gw${name.replace(/(^|-)(\w)/g, (_m, _d, c: string) => c.toUpperCase())}`;

const registered = new WeakSet<Redis>();

function register(redis: Redis): void {
  if (registered.has(redis)) return;
  // No fixed numberOfKeys: runScript passes the key count first, so one script serves callers with optional keys.
  for (const [name, lua] of loadSources()) redis.defineCommand(commandName(name), { lua });
  registered.add(redis);
}

type ScriptFn = (numKeys: number, ...keysAndArgs: (string | number)[]) => Promise<unknown>;

/** Run one of the scripts with these KEYS and ARGV. */
export async function runScript<T = unknown>(
  redis: Redis,
  name: ScriptName,
  keys: string[],
  args: (string | number)[] = [],
): Promise<T> {
  register(redis);
  const fn = (redis as unknown as Record<string, ScriptFn>)[commandName(name)]!;
  return (await fn.call(redis, keys.length, ...keys, ...args)) as T;
}
