/**
 * A real MCP server built with the official SDK (@modelcontextprotocol/server), for the agents' MCP tests.
 * Run as a script it serves stdio (`tsx test/fakes/mcp/server.ts`); `startHttpMcpServer` serves Streamable HTTP
 * on a free loopback port.
 *
 * Tools: `shout` (upper-cases `text`), `whisper` (lower-cases; tests deny it), `whoami` (the `x-api-key` header the
 * HTTP request carried, or "stdio" and the server's FAKE_MCP_GREETING environment variable).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import { z } from 'zod';

function buildServer(requestInfo?: Request): McpServer {
  const s = new McpServer({ name: 'fake-tools', version: '1.0.0' });
  const text = (t: string) => ({ content: [{ type: 'text' as const, text: t }] });
  const textInput = z.object({ text: z.string() });
  s.registerTool('shout', { description: 'Upper-cases a text', inputSchema: textInput }, async ({ text: t }) =>
    text(`${t.toUpperCase()}!`),
  );
  s.registerTool('whisper', { description: 'Lower-cases a text', inputSchema: textInput }, async ({ text: t }) =>
    text(t.toLowerCase()),
  );
  s.registerTool('whoami', { description: 'Who is asking', inputSchema: z.object({}) }, async () =>
    text(
      requestInfo
        ? `key=${requestInfo.headers.get('x-api-key') ?? 'none'}`
        : `stdio greeting=${process.env.FAKE_MCP_GREETING ?? 'none'}`,
    ),
  );
  return s;
}

export interface HttpMcpServer {
  url: string;
  /** Requests served, to assert the pool reuses its connection. */
  requests: number;
  close(): Promise<void>;
}

/** Streamable HTTP on 127.0.0.1:<port> (0: a free one), path /mcp. */
export async function startHttpMcpServer(port = 0): Promise<HttpMcpServer> {
  const handler = createMcpHandler((ctx) => buildServer(ctx.requestInfo));
  const state = { requests: 0 };
  const server: Server = createServer(async (req, res) => {
    state.requests++;
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
    const request = new Request(`http://127.0.0.1${req.url}`, {
      method: req.method,
      headers,
      body: req.method === 'GET' || req.method === 'HEAD' ? undefined : Buffer.concat(chunks),
    });
    const response = await handler.fetch(request);
    res.writeHead(response.status, Object.fromEntries(response.headers));
    if (response.body) for await (const chunk of response.body) res.write(chunk);
    res.end();
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}/mcp`,
    get requests() {
      return state.requests;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await handler.close();
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) serveStdio(() => buildServer());
