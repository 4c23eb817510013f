/**
 * Shutdown with a request that never completes (a client that sent its headers and stalls on the body, as a
 * slowloris does): the server's close would wait for it, so a SIGTERM could hang until Node's request timeout
 * (5 minutes). After a short drain such requests are cut and the process stops on time.
 */
import net from 'node:net';
import { expect, it } from 'vitest';
import { startTestApp } from '../helpers/app.js';

it('stops within seconds while a client holds a half-sent request open', async () => {
  const app = await startTestApp();
  const { port } = new URL(app.url);
  const socket = net.connect(Number(port), '127.0.0.1');
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.on('error', () => undefined);
  // Headers promise 1,000 bytes; 10 arrive, the rest never do.
  socket.write(
    'POST /local/messages HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"convers',
  );
  await new Promise((r) => setTimeout(r, 300));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const started = Date.now();
  await app.close();
  expect(Date.now() - started).toBeLessThan(10_000);
  await closed; // the stalled client was cut, not left hanging
  socket.destroy();
}, 30_000);
