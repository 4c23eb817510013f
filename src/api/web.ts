/**
 * The web chat: static HTML, CSS and JS modules (no build step) that talk ONLY to the public agent API with
 * a key the user pastes (kept in the browser's localStorage), or in development the gateway's development key.
 * Served at WEB_CHAT_PATH when WEB_CHAT is on (default: on in development, off in production). The files live in
 * src/api/web/ and are read at start-up, with the browser builds of `marked` and `dompurify` from node_modules
 * (served by the gateway itself: no CDN, works offline, and the CSP stays 'self').
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { appPath } from '../core/app-root.js';
import { safeErr } from '../observability/logger.js';

const FILES = {
  'index.html': 'text/html; charset=utf-8',
  'chat.js': 'text/javascript; charset=utf-8',
  'chat.css': 'text/css; charset=utf-8',
  'markdown.js': 'text/javascript; charset=utf-8',
  'approval.js': 'text/javascript; charset=utf-8',
} as const;
type FileName = keyof typeof FILES;

/** The ES module builds of the markdown renderer and the sanitiser, served as `<path>/vendor/<name>`. */
function vendorFiles(): Record<string, string> {
  const require = createRequire(import.meta.url);
  return {
    // marked's only entry point is its ES module build; dompurify's CommonJS entry sits beside its ES build.
    'marked.js': require.resolve('marked'),
    'purify.js': path.join(path.dirname(require.resolve('dompurify')), 'purify.es.mjs'),
  };
}

async function findWebDir(): Promise<string | null> {
  const dir = appPath('src/api/web');
  return readFile(path.join(dir, 'index.html')).then(
    () => dir,
    () => null,
  );
}

export interface WebChatOptions {
  path: string;
  apiPrefix: string;
  log: Logger;
  /** Development only: a key the page uses when the browser has none saved, so the chat works at once. */
  devKey?: string;
}

export async function registerWebChat(app: FastifyInstance, o: WebChatOptions): Promise<boolean> {
  const dir = await findWebDir();
  if (!dir) {
    o.log.error('WEB_CHAT is on but src/api/web/ was not found in the app folder; web chat not served');
    return false;
  }
  const files = new Map<FileName, string>();
  for (const name of Object.keys(FILES) as FileName[]) files.set(name, await readFile(path.join(dir, name), 'utf8'));
  const vendor = new Map<string, string>();
  try {
    for (const [name, file] of Object.entries(vendorFiles())) {
      // The source map is not shipped; the comment would only make devtools ask for it.
      vendor.set(name, (await readFile(file, 'utf8')).replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n'));
    }
  } catch (err) {
    o.log.error(
      { err: safeErr(err as Error) },
      'web chat: marked or dompurify missing from node_modules; web chat not served',
    );
    return false;
  }
  const html = files
    .get('index.html')!
    .replaceAll('__API_PREFIX__', o.apiPrefix)
    .replaceAll('__CHAT_PATH__', o.path)
    // The key's alphabet ([A-Za-z0-9_-]) needs no escaping in an attribute.
    .replaceAll('__DEV_API_KEY__', o.devKey && /^[\w-]+$/.test(o.devKey) ? o.devKey : '');
  const headers = {
    // Only our own scripts and styles; the page talks to this origin only.
    'content-security-policy':
      "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-cache',
  };
  app.get(o.path, async (_req, reply) => reply.headers(headers).type(FILES['index.html']).send(html));
  for (const name of ['chat.js', 'chat.css', 'markdown.js', 'approval.js'] as const) {
    app.get(`${o.path}/${name}`, async (_req, reply) => reply.headers(headers).type(FILES[name]).send(files.get(name)));
  }
  for (const [name, body] of vendor) {
    app.get(`${o.path}/vendor/${name}`, async (_req, reply) =>
      reply.headers(headers).type('text/javascript; charset=utf-8').send(body),
    );
  }
  return true;
}
