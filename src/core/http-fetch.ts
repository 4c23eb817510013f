/**
 * A `fetch` for the HTTP APIs a turn calls (the model provider, the Slack Web API), on undici's `request`.
 *
 * Why not Node's own fetch: its spec machinery (Request objects, body extraction into a web stream written back out
 * as an iterable, the fetch controller) cost 440-480 µs of CPU per call on loopback, against 180-210 µs for `request`
 * with a `Response` built from what it returned (client and server in one process, both figures include the
 * server's). A worker makes one provider call per turn, and a streamed Slack reply four more. Both clients take a
 * `fetch` option, so nothing else changes: they get a real `Response`.
 *
 * Only what those clients send takes the fast path: a URL or string, a string / bytes / URLSearchParams body or none.
 * Anything else (a `Request`, FormData for file uploads, a stream) and redirects to follow go to the global fetch.
 * Errors look like fetch's: `TypeError('fetch failed')` with the cause, or the signal's reason when aborted.
 */
import { STATUS_CODES } from 'node:http';
import { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { Agent, request } from 'undici';

export interface HttpFetchOptions {
  /** Most connections kept per origin; default unlimited, as Node's fetch: one per concurrent request. */
  connectionsPerOrigin?: number;
  /** How long an idle connection is kept open for the next request (undici's default is 4 s). */
  keepAliveMs?: number;
}

/** Statuses whose Response may not have a body (the Response constructor throws otherwise). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);
const REDIRECT = new Set([301, 302, 303, 307, 308]);
const DECODE: Record<string, (() => NodeJS.ReadWriteStream) | undefined> = {
  gzip: createGunzip,
  'x-gzip': createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

type Body = string | Uint8Array | undefined;

function fastBody(body: RequestInit['body']): Body | null {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  if (body instanceof URLSearchParams) return body.toString();
  return null;
}

function plainHeaders(h: RequestInit['headers'], body: RequestInit['body']): Record<string, string> {
  const out: Record<string, string> = {};
  if (h instanceof Headers) h.forEach((v, k) => (out[k] = v));
  else if (Array.isArray(h)) for (const [k, v] of h) out[k!.toLowerCase()] = v!;
  else if (h) for (const [k, v] of Object.entries(h)) out[k.toLowerCase()] = typeof v === 'string' ? v : v.join(', ');
  if (body instanceof URLSearchParams && !out['content-type']) {
    out['content-type'] = 'application/x-www-form-urlencoded;charset=UTF-8';
  }
  return out;
}

/** What fetch rejects with: the signal's reason when it was aborted, else `TypeError('fetch failed')`. */
function fetchError(err: unknown, signal: AbortSignal | undefined): unknown {
  return signal?.aborted ? signal.reason : new TypeError('fetch failed', { cause: err });
}

export function createHttpFetch(o: HttpFetchOptions = {}): typeof fetch {
  const dispatcher = new Agent({
    keepAliveTimeout: o.keepAliveMs ?? 4_000,
    ...(o.connectionsPerOrigin ? { connections: o.connectionsPerOrigin } : {}),
  });

  async function httpFetch(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
    const body = fastBody(init.body);
    if (input instanceof Request || body === null) return fetch(input, init);
    const signal = init.signal ?? undefined;
    const method = (init.method ?? 'GET').toUpperCase();
    let res: Awaited<ReturnType<typeof request>>;
    try {
      res = await request(input, {
        dispatcher,
        method: method as 'GET',
        headers: plainHeaders(init.headers, init.body),
        body,
        signal,
      });
    } catch (err) {
      throw fetchError(err, signal);
    }
    const status = res.statusCode;
    if (REDIRECT.has(status) && res.headers.location && init.redirect !== 'manual') {
      res.body.resume(); // nobody reads it; let the connection go back to the pool
      if (init.redirect === 'error') throw new TypeError('fetch failed', { cause: new Error('unexpected redirect') });
      return fetch(input, init); // rare for an API; the body is a string or bytes, so it can be sent again
    }
    const headers = new Headers();
    for (const [k, v] of Object.entries(res.headers)) {
      if (Array.isArray(v)) for (const x of v) headers.append(k, x);
      else if (v !== undefined) headers.append(k, v);
    }
    const meta = { status, statusText: STATUS_CODES[status] ?? '', headers };
    if (NULL_BODY.has(status) || method === 'HEAD') {
      res.body.resume();
      return new Response(null, meta);
    }
    const decode = DECODE[(headers.get('content-encoding') ?? '').trim().toLowerCase()];
    if (decode) {
      headers.delete('content-encoding');
      headers.delete('content-length');
    }
    const stream = decode ? (res.body.pipe(decode()) as unknown as Readable) : res.body;
    // A server-sent event stream is read as it arrives (the model's tokens); anything else is read whole first,
    // which is what both clients do with it anyway and cheaper than a web stream over the socket.
    if ((headers.get('content-type') ?? '').includes('text/event-stream')) {
      return new Response(Readable.toWeb(stream) as ReadableStream<Uint8Array>, meta);
    }
    try {
      const chunks: Buffer[] = [];
      for await (const c of stream) chunks.push(c as Buffer);
      return new Response(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks), meta);
    } catch (err) {
      throw fetchError(err, signal);
    }
  }
  return httpFetch as typeof fetch;
}
