/** A loopback HTTP server serving fixed files, recording every request (to prove what was, or was not, fetched). */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FileServer {
  /** Origin, e.g. http://127.0.0.1:PORT */
  url: string;
  hits: { path: string; headers: IncomingHttpHeaders }[];
  close(): Promise<void>;
}

export const fixtureFile = (name: string): Buffer =>
  readFileSync(new URL(`../fixtures/attachments/${name}`, import.meta.url));

export async function startFileServer(files: Record<string, { body: Buffer; type: string }>): Promise<FileServer> {
  const hits: FileServer['hits'] = [];
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    hits.push({ path, headers: req.headers });
    const f = files[path];
    if (!f) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': f.type, 'content-length': f.body.length }).end(f.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    close: () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
