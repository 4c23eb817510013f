/**
 * The gateway's HTTP client (src/core/http-fetch.ts) behaves as Node's fetch does for what the model provider and
 * the Slack Web API send: the same answers, streams read as they arrive, aborts and failures reported the same way.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpFetch } from '../../src/core/http-fetch.js';

let server: Server;
let base: string;
const held = { now: 0, max: 0 };
const seen: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[] = [];

function route(req: IncomingMessage, res: ServerResponse, body: string): void {
  const url = new URL(req.url!, 'http://x');
  switch (url.pathname) {
    case '/echo':
      res.writeHead(201, { 'content-type': 'application/json', 'x-request-id': 'req-1' });
      res.end(JSON.stringify({ method: req.method, body, type: req.headers['content-type'] ?? null }));
      return;
    case '/events': {
      // Two events, the second only after the client has had time to read the first.
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: one\n\n');
      setTimeout(() => res.end('data: two\n\n'), 300);
      return;
    }
    case '/gzip':
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end(gzipSync(JSON.stringify({ ok: true, text: 'zipped' })));
      return;
    case '/empty':
      res.writeHead(204).end();
      return;
    case '/moved':
      res.writeHead(307, { location: '/echo' }).end();
      return;
    case '/slow':
      setTimeout(() => res.writeHead(200).end('late'), 600);
      return;
    case '/hold':
      held.now++;
      held.max = Math.max(held.max, held.now);
      setTimeout(() => {
        held.now--;
        res.writeHead(200).end('held');
      }, 150);
      return;
    case '/limited':
      res.writeHead(429, { 'retry-after': '7', 'set-cookie': ['a=1', 'b=2'] }).end('slow down');
      return;
    default:
      res.writeHead(404).end();
  }
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      route(req, res, body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const httpFetch = createHttpFetch();

describe('the gateway HTTP client answers as fetch does', () => {
  it('sends a string body with its headers and returns status, headers and body as fetch does', async () => {
    const init = {
      method: 'POST',
      headers: new Headers({ 'content-type': 'application/json', authorization: 'Bearer k' }),
      body: JSON.stringify({ q: 'x' }),
    };
    const [ours, node] = await Promise.all([httpFetch(`${base}/echo`, init), fetch(`${base}/echo`, init)]);
    for (const res of [ours, node]) {
      expect(res.status).toBe(201);
      expect(res.ok).toBe(true);
      expect(res.statusText).toBe('Created');
      expect(res.headers.get('x-request-id')).toBe('req-1');
    }
    expect(await ours.json()).toEqual(await node.json());
    expect(seen.at(-1)!.headers.authorization).toBe('Bearer k');
  });

  it('sends form bodies (URLSearchParams, as the Slack Web API does) with their content type', async () => {
    const res = await httpFetch(`${base}/echo`, {
      method: 'POST',
      body: new URLSearchParams({ channel: 'C1', text: 'a&b' }),
    });
    expect(await res.json()).toEqual({
      method: 'POST',
      body: 'channel=C1&text=a%26b',
      type: 'application/x-www-form-urlencoded;charset=UTF-8',
    });
  });

  it('hands an event stream over as it arrives, not when it ends', async () => {
    const t0 = performance.now();
    const res = await httpFetch(`${base}/events`);
    const reader = res.body!.getReader();
    const first = await reader.read();
    const firstAt = performance.now() - t0;
    expect(Buffer.from(first.value!).toString()).toBe('data: one\n\n');
    expect(firstAt).toBeLessThan(250);
    let rest = '';
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += Buffer.from(r.value).toString();
    expect(rest).toBe('data: two\n\n');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
  });

  it('ends a stream being read with an error when its signal aborts, as fetch does', async () => {
    for (const client of [httpFetch, fetch]) {
      const abort = new AbortController();
      const res = await client(`${base}/events`, { signal: abort.signal });
      const reader = res.body!.getReader();
      expect(Buffer.from((await reader.read()).value!).toString()).toBe('data: one\n\n');
      abort.abort();
      const err = await reader.read().catch((e: unknown) => e);
      expect((err as Error).name).toBe('AbortError');
    }
  });

  it('decodes a compressed answer, keeps repeated headers and gives bodiless statuses no body', async () => {
    expect(await (await httpFetch(`${base}/gzip`)).json()).toEqual({ ok: true, text: 'zipped' });
    const limited = await httpFetch(`${base}/limited`, { method: 'POST', body: 'x' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    expect(limited.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(await limited.text()).toBe('slow down');
    const empty = await httpFetch(`${base}/empty`, { method: 'DELETE' });
    expect(empty.status).toBe(204);
    expect(empty.body).toBeNull();
  });

  it('follows a redirect by default, refuses it when told to, returns it when manual', async () => {
    const followed = await httpFetch(`${base}/moved`, { method: 'POST', body: 'again' });
    expect(((await followed.json()) as { body: string }).body).toBe('again');
    await expect(httpFetch(`${base}/moved`, { redirect: 'error' })).rejects.toThrow(TypeError);
    const manual = await httpFetch(`${base}/moved`, { redirect: 'manual' });
    expect(manual.status).toBe(307);
    expect(manual.headers.get('location')).toBe('/echo');
  });

  it('rejects with the signal reason on abort and with "fetch failed" when nothing listens', async () => {
    const err = await httpFetch(`${base}/slow`, { signal: AbortSignal.timeout(100) }).catch((e: unknown) => e);
    expect((err as Error).name).toBe('TimeoutError');
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const refused = await httpFetch(`http://127.0.0.1:${port}/`).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TypeError);
    expect((refused as Error).message).toBe('fetch failed');
  });

  it('keeps at most the configured connections per host; further calls wait for one (HTTP_CONNECTIONS_PER_HOST)', async () => {
    const capped = createHttpFetch({ connectionsPerOrigin: 2 });
    held.max = 0;
    const t0 = performance.now();
    const answers = await Promise.all(Array.from({ length: 5 }, () => capped(`${base}/hold`).then((r) => r.text())));
    expect(answers).toEqual(Array(5).fill('held'));
    expect(held.max).toBe(2);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(3 * 150 - 10); // three rounds of two, two and one
    held.max = 0;
    await Promise.all(Array.from({ length: 5 }, () => httpFetch(`${base}/hold`).then((r) => r.text())));
    expect(held.max).toBe(5); // unlimited by default: one connection per concurrent call
  });

  it('leaves what it does not handle (a multipart upload) to Node fetch', async () => {
    const form = new FormData();
    form.set('file', new Blob(['bytes']), 'a.txt');
    const res = await httpFetch(`${base}/echo`, { method: 'POST', body: form });
    expect(((await res.json()) as { type: string }).type).toMatch(/^multipart\/form-data; boundary=/);
  });
});
