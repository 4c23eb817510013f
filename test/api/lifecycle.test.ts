/**
 * Shutdown with requests that wait for runs: the HTTP server's close waits for open requests, so the api module
 * must end its waits and SSE streams first (preClose) instead of holding shutdown until the run is done.
 */
import { expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import { startApiApp, statusOf, userInput } from './helpers.js';

it('closing the app ends open streams and waits at once, telling clients to join later', async () => {
  const app = await startApiApp();
  let closeStarted = 0;
  try {
    const { client } = await app.newClient('lifecycle');
    const t1 = await client.threads.create();
    const t2 = await client.threads.create();
    const events: { event: string; data: any; at: number }[] = [];
    const streaming = (async () => {
      for await (const ev of client.runs.stream(t1.thread_id, 'agent', {
        input: userInput('[[slow:6000]] long one'),
        streamMode: ['values'],
      })) {
        events.push({ ...(ev as { event: string; data: any }), at: Date.now() });
      }
    })();
    const waiting = statusOf(client.runs.wait(t2.thread_id, 'agent', { input: userInput('[[slow:6000]] other') }));
    // Both requests are open and waiting for their runs (the runs exist, the stream sent its first events).
    await waitFor(
      async () => events.length >= 2 && (await client.threads.get(t2.thread_id)).status === 'busy',
      'both runs to start',
      15_000,
    );
    expect(events.map((e) => e.event)).toEqual(['metadata', 'values']);

    closeStarted = Date.now();
    const closing = app.close();
    expect(await waiting).toBe(408);
    await streaming;
    const last = events.at(-1)!;
    expect(last.event).toBe('error');
    expect(last.data.message).toMatch(/shutting down.*join it later/);
    expect(last.at - closeStarted).toBeLessThan(1_000); // not after the 6 s turn
    await closing; // the worker still finishes its in-flight turn, so this takes up to that long
  } finally {
    if (!closeStarted) await app.close();
  }
}, 30_000);
