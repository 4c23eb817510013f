/** API keys (missing, bad, revoked -> 401; the CLI), per-key rate limit (429 + Retry-After), and the OpenAPI document vs the routes. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { revokeApiKey } from '../../src/api/index.js';
import { rawApi, startApiApp, statusOf, type ApiTestApp } from './helpers.js';

const run = promisify(execFile);
let app: ApiTestApp;

// A small bucket so the limit is reached in a few requests: 4 at once, then one every 6 s.
beforeAll(async () => {
  app = await startApiApp({ API_RATE_BURST: '4', API_RATE_LIMIT_PER_MINUTE: '10' });
});
afterAll(async () => app?.close());

describe('API keys', () => {
  it('a missing or malformed key is a 401 on every kind of route', async () => {
    for (const key of [null, 'not-a-key', `gwk_000000000000_${'x'.repeat(43)}`]) {
      const c = app.client(key);
      expect(await statusOf(c.threads.create())).toBe(401);
      expect(await statusOf(c.threads.search())).toBe(401);
      expect(await statusOf(c.store.getItem(['a'], 'b'))).toBe(401);
      expect(await statusOf(c.assistants.search())).toBe(401);
    }
    const raw = await rawApi(app, 'POST', '/threads', { body: {} });
    expect(raw.status).toBe(401);
    expect(raw.body).toEqual({ detail: 'missing or invalid x-api-key' });
  });

  it('a valid key with a wrong secret is a 401; a revoked key stops working at once', async () => {
    const { key, id, client } = await app.newClient('to-revoke');
    expect((await client.threads.create()).thread_id).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    ); // the key works
    const wrongSecret = key.slice(0, -4) + (key.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    expect(await statusOf(app.client(wrongSecret).threads.search())).toBe(401);
    expect(await revokeApiKey(app.database.db, id)).toBe(true);
    expect(await statusOf(client.threads.search())).toBe(401);
  });

  it('the CLI creates a key that works (only its hash is stored), lists it and revokes it', async () => {
    const env = { ...process.env, NODE_ENV: 'test', DATABASE_URL: app.db.url, LOG_LEVEL: 'silent' };
    const cli = (...args: string[]) => run('npx', ['tsx', 'scripts/api-keys.ts', ...args], { env, cwd: process.cwd() });
    const created = await cli('create', 'cli key');
    expect(created.stdout).toMatch(/gwk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}/); // printed once, to copy
    const key = /(gwk_[0-9a-f]{12}_[A-Za-z0-9_-]{43})/.exec(created.stdout)?.[1];
    const id = key!.slice(4, 16);
    const rows = await app.database.sql`select secret_hash from api_keys where id = ${id}`;
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(key!.slice(17)); // the secret itself is not stored

    expect(Array.isArray(await app.client(key!).threads.search())).toBe(true);
    expect((await cli('list')).stdout).toMatch(new RegExp(`${id}\\s+active\\s+.*cli key`));
    expect((await cli('revoke', id)).stdout).toContain(`revoked API key ${id}`);
    expect(await statusOf(app.client(key!).threads.search())).toBe(401);
  }, 60_000);
});

describe('rate limit', () => {
  it("answers 429 with Retry-After once a key's bucket is empty; other keys are not affected", async () => {
    const a = await app.newClient('limited');
    const b = await app.newClient('unaffected');
    for (let i = 0; i < 4; i++) await a.client.threads.search();
    expect(await statusOf(a.client.threads.search())).toBe(429); // SDK retries are off, so the 429 is visible
    const raw = await rawApi(app, 'POST', '/threads/search', { key: a.key, body: {} });
    expect(raw.status).toBe(429);
    const retryAfter = Number(raw.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(6);
    expect(raw.body.detail).toMatch(/rate limit/);
    expect(Array.isArray(await b.client.threads.search())).toBe(true);
  });
});

/** Full route paths and methods from fastify's route tree (printRoutes), HEAD excluded. */
function servedRoutes(tree: string): Set<string> {
  const out = new Set<string>();
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^([│ ]*)[├└]── (\S+)(?: \(([^)]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    const path = (stack[depth - 1] ?? '') + m[2];
    stack.push(path);
    for (const method of m[3]?.split(', ') ?? []) if (method !== 'HEAD') out.add(`${method} ${path}`);
  }
  return out;
}

describe('OpenAPI document', () => {
  it('is served without a key and lists exactly the routes served under the prefix', async () => {
    const res = await rawApi(app, 'GET', '/openapi.json');
    expect(res.status).toBe(200);
    const doc = res.body as {
      openapi: string;
      servers: { url: string }[];
      paths: Record<string, Record<string, unknown>>;
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.servers[0]!.url).toBe(app.config.API_PREFIX);

    const documented = new Set<string>();
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const m of Object.keys(methods))
        documented.add(`${m.toUpperCase()} ${app.config.API_PREFIX}${path.replace(/\{(\w+)\}/g, ':$1')}`);
    }
    const prefix = `${app.config.API_PREFIX}/`;
    const served = [...servedRoutes(app.server.printRoutes({ commonPrefix: false }))].filter((r) =>
      r.split(' ')[1]!.startsWith(prefix),
    );
    expect(served.length).toBeGreaterThan(40);
    expect(new Set(served)).toEqual(documented);
    for (const r of documented) {
      const [method, url] = r.split(' ') as [string, string];
      expect(app.server.hasRoute({ method: method as 'GET', url }), r).toBe(true);
    }
  });

  it('documents the LangGraph SDK paths and the Agent Protocol aliases, with the key scheme', async () => {
    const { body: doc } = await rawApi(app, 'GET', '/openapi.json');
    const has = (method: string, path: string) => Boolean(doc.paths[path]?.[method]);
    for (const [m, p] of [
      ['post', '/threads'],
      ['post', '/threads/search'],
      ['get', '/threads/{thread_id}/state'],
      ['post', '/threads/{thread_id}/history'],
      ['post', '/threads/{thread_id}/runs/wait'],
      ['post', '/threads/{thread_id}/runs/stream'],
      ['get', '/threads/{thread_id}/runs/{run_id}/join'],
      ['post', '/runs/wait'],
      ['post', '/runs/stream'],
      ['put', '/store/items'],
      ['post', '/store/items/search'],
      ['post', '/store/namespaces'],
      ['post', '/threads/{thread_id}/runs/crons'],
      ['post', '/runs/crons'],
      ['delete', '/runs/crons/{cron_id}'],
      ['post', '/assistants/search'],
      // Agent Protocol names for the same things.
      ['post', '/agents/search'],
      ['get', '/agents/{agent_id}'],
      ['get', '/agents/{agent_id}/schemas'],
      ['get', '/threads/{thread_id}/history'],
      ['get', '/threads/{thread_id}/runs/{run_id}/wait'],
      ['get', '/runs/{run_id}'],
      ['get', '/runs/{run_id}/wait'],
      ['get', '/runs/{run_id}/stream'],
      ['post', '/runs/{run_id}/cancel'],
    ] as const)
      expect(has(m, p), `${m} ${p}`).toBe(true);
    expect(doc.components.securitySchemes.apiKey).toMatchObject({ type: 'apiKey', in: 'header', name: 'x-api-key' });
    expect(doc.paths['/threads'].post.responses['401']).toBeDefined();
    expect(doc.info.description).toMatch(/reject.*default.*409/);
  });
});
