/**
 * The shared download rules against real loopback HTTP servers: only allowlisted origins are fetched, a redirect
 * off the list is not followed, the platform's auth never leaves the first origin, and the byte cap holds even
 * when the server sends no (or a false) Content-Length.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  allowlist,
  AttachmentRefused,
  dataUrlBytes,
  decodeDataUrl,
  fetchFromHosts,
  parseAllowlist,
  readCapped,
} from '../../src/attachments/download.js';

interface Server {
  url: string;
  hits: { path: string; headers: IncomingHttpHeaders }[];
  close(): Promise<void>;
}

async function server(handle: (path: string, res: import('node:http').ServerResponse) => void): Promise<Server> {
  const hits: Server['hits'] = [];
  const s = createServer((req, res) => {
    hits.push({ path: req.url ?? '', headers: req.headers });
    handle(req.url ?? '', res);
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`,
    hits,
    close: () => new Promise((r) => (s.closeAllConnections(), s.close(() => r()))),
  };
}

let platform: Server;
let other: Server;

beforeAll(async () => {
  other = await server((_p, res) => res.writeHead(200).end('secret stuff'));
  platform = await server((path, res) => {
    if (path === '/away') return void res.writeHead(302, { location: `${other.url}/x` }).end();
    if (path === '/hop') return void res.writeHead(302, { location: '/file' }).end();
    if (path === '/chunked') {
      // No Content-Length: the body streams in chunks past the cap.
      res.writeHead(200);
      for (let i = 0; i < 10; i++) res.write(Buffer.alloc(1000, 1));
      return void res.end();
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end('hello');
  });
});
afterAll(async () => Promise.all([platform?.close(), other?.close()]));

const refusal = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (err) {
    if (err instanceof AttachmentRefused) return err.reason;
    throw err;
  }
  return 'fetched';
};

describe('fetchFromHosts', () => {
  it('fetches from an allowed origin, with the auth header', async () => {
    const res = await fetchFromHosts(`${platform.url}/file`, allowlist([], platform.url), {
      headers: { authorization: 'Bearer t' },
    });
    expect(await res.text()).toBe('hello');
    expect(platform.hits.at(-1)?.headers.authorization).toBe('Bearer t');
  });

  it('refuses any other origin without a request, and plain http for host-only entries', async () => {
    expect(await refusal(fetchFromHosts(`${other.url}/x`, allowlist([], platform.url)))).toBe('host');
    expect(await refusal(fetchFromHosts('http://files.slack.com/x', allowlist(['files.slack.com'])))).toBe('host');
    expect(await refusal(fetchFromHosts('not a url', allowlist(['files.slack.com'])))).toBe('host');
    expect(other.hits).toHaveLength(0);
  });

  it('does not follow a redirect off the list; follows one that stays on it', async () => {
    const before = other.hits.length;
    expect(await refusal(fetchFromHosts(`${platform.url}/away`, allowlist([], platform.url)))).toBe('host');
    expect(other.hits.length).toBe(before);
    const res = await fetchFromHosts(`${platform.url}/hop`, allowlist([], platform.url));
    expect(await res.text()).toBe('hello');
  });

  it('sends the auth header only to the first origin when a redirect leaves it', async () => {
    const both = allowlist([], platform.url, other.url);
    await (await fetchFromHosts(`${platform.url}/away`, both, { headers: { authorization: 'Bearer t' } })).text();
    expect(other.hits.at(-1)?.headers.authorization).toBeUndefined();
  });
});

describe('readCapped', () => {
  it('refuses by Content-Length before reading, and mid-stream without one', async () => {
    const res = await fetchFromHosts(`${platform.url}/file`, allowlist([], platform.url));
    expect(await refusal(readCapped(res, 3))).toBe('too_big');
    const chunked = await fetchFromHosts(`${platform.url}/chunked`, allowlist([], platform.url));
    expect(await refusal(readCapped(chunked, 2500))).toBe('too_big');
    const ok = await fetchFromHosts(`${platform.url}/chunked`, allowlist([], platform.url));
    expect((await readCapped(ok, 20_000)).length).toBe(10_000);
  });
});

describe('data: URLs and allowlist config', () => {
  it('decodes base64 and percent-encoded data: URLs and sizes them without decoding', () => {
    expect(decodeDataUrl('data:text/plain;base64,aGVsbG8=')).toEqual({
      bytes: Buffer.from('hello'),
      mimeType: 'text/plain',
    });
    expect(decodeDataUrl('data:,a%20b')?.bytes.toString()).toBe('a b');
    expect(dataUrlBytes(`data:image/png;base64,${Buffer.alloc(300).toString('base64')}`)).toBe(300);
    expect(decodeDataUrl('https://x')).toBeUndefined();
  });

  it('reads ATTACHMENT_URL_HOSTS as https hosts and full origins', () => {
    expect(parseAllowlist('files.example.com, http://127.0.0.1:9000')).toEqual({
      hosts: ['files.example.com'],
      origins: ['http://127.0.0.1:9000'],
    });
  });
});
