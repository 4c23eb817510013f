/** The real gateway with the api module and the `api` channel adapter, plus SDK clients bound to fresh keys. */
import { Client } from '@langchain/langgraph-sdk';
import { createApiAdapter, createApiKey } from '../../src/api/index.js';
import { openDatabase, type Database } from '../../src/db/client.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

export interface ApiTestApp extends TestApp {
  apiUrl: string;
  database: Database;
  /** A new API key (its own tenant) and an SDK client using it, retries off so 4xx/5xx are visible. */
  newClient(name?: string): Promise<{ key: string; id: string; client: Client }>;
  client(key: string | null): Client;
}

export async function startApiApp(env: Record<string, string> = {}): Promise<ApiTestApp> {
  const app = await startTestApp({ env: { API_HEARTBEAT_MS: '200', ...env }, extraAdapters: () => [createApiAdapter()] });
  const database = openDatabase(app.db.url, 2);
  const apiUrl = `${app.url}${app.config.API_PREFIX}`;
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
      await app.close();
    },
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const userInput = (content: string) => ({ messages: [{ role: 'user', content }] });
