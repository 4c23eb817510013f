/** The real gateway (its api module brings the `api` channel adapter), plus SDK clients bound to fresh keys. */
import { Client } from '@langchain/langgraph-sdk';
import { createApiKey } from '../../src/api/index.js';
import { openDatabase, type Database } from '../../src/db/client.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

export interface ApiTestApp extends TestApp {
  apiUrl: string;
  database: Database;
  /** A new API key (its own tenant) and an SDK client using it, retries off so 4xx/5xx are visible. */
  newClient(name?: string): Promise<{ key: string; id: string; client: Client }>;
  client(key: string | null): Client;
}

export async function startApiApp(
  env: Record<string, string> = {},
  opts: Omit<NonNullable<Parameters<typeof startTestApp>[0]>, 'env'> = {},
): Promise<ApiTestApp> {
  const app = await startTestApp({ ...opts, env: { API_HEARTBEAT_MS: '200', ...env } });
  const database = openDatabase(app.db.url, 2);
  const apiUrl = `${app.url}${app.config.API_PREFIX}`;
  const stopApp = app.close; // kept: Object.assign below replaces app.close, and calling it again would recurse
  const client = (key: string | null) => new Client({ apiUrl, apiKey: key, callerOptions: { maxRetries: 0 } });
  return Object.assign(app, {
    apiUrl,
    database,
    client,
    async newClient(name = 'test') {
      const k = await createApiKey(database.db, name);
      return { key: k.key, id: k.id, client: client(k.key) };
    },
    async close() {
      await database.close();
      await stopApp();
    },
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const userInput = (content: string) => ({ messages: [{ role: 'user', content }] });

/** The HTTP status an SDK call failed with (the SDK's HTTPError carries it); throws if the call succeeded. */
export async function statusOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
  } catch (err) {
    const status = (err as { status?: number }).status;
    if (typeof status === 'number') return status;
    throw err;
  }
  throw new Error('expected the call to fail');
}

/** A plain HTTP request to the API (for headers the SDK does not expose). */
export async function rawApi(
  app: ApiTestApp,
  method: string,
  path: string,
  opts: { key?: string; body?: unknown } = {},
) {
  const headers: Record<string, string> = {};
  if (opts.key) headers['x-api-key'] = opts.key;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(app.apiUrl + path, {
    method,
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, headers: res.headers, body };
}

/** The text of the last AI message in a values object ({messages}). */
export function lastAi(values: unknown): string | undefined {
  const msgs = ((values as { messages?: { type: string; content: unknown }[] }).messages ?? []).filter(
    (m) => m.type === 'ai',
  );
  const c = msgs.at(-1)?.content;
  return typeof c === 'string' ? c : undefined;
}
