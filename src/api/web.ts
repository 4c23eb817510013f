/**
 * The web chat: static HTML, CSS and one JS module (no build step) that talk ONLY to the public agent API with
 * a key the user pastes (kept in the browser's localStorage), or in development the gateway's development key. Served at WEB_CHAT_PATH when WEB_CHAT is on
 * (default: on in development, off in production). The files live in src/api/web/ and are read at start-up.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';

const FILES = {
  'index.html': 'text/html; charset=utf-8',
  'chat.js': 'text/javascript; charset=utf-8',
  'chat.css': 'text/css; charset=utf-8',
} as const;
type FileName = keyof typeof FILES;

async function findWebDir(): Promise<string | null> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  // From src/ (tsx), next to compiled JS (dist/src/api, if the build copies it), or from the working directory.
  for (const dir of [
    path.join(here, 'web'),
    path.resolve(here, '../../../src/api/web'),
    path.resolve(process.cwd(), 'src/api/web'),
  ]) {
    try {
      await readFile(path.join(dir, 'index.html'));
      return dir;
    } catch {
      /* try next */
    }
  }
  return null;
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
    o.log.error(
      'WEB_CHAT is on but src/api/web/ was not found next to the code or in the working directory; web chat not served',
    );
    return false;
  }
  const files = new Map<FileName, string>();
  for (const name of Object.keys(FILES) as FileName[]) files.set(name, await readFile(path.join(dir, name), 'utf8'));
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
  for (const name of ['chat.js', 'chat.css'] as const) {
    app.get(`${o.path}/${name}`, async (_req, reply) => reply.headers(headers).type(FILES[name]).send(files.get(name)));
  }
  return true;
}
