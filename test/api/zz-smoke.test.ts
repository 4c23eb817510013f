import { describe, expect, it } from 'vitest';
import { startApiApp, userInput } from './helpers.js';
describe('smoke', () => {
  it('works', async () => {
    const app = await startApiApp();
    try {
      const { client } = await app.newClient();
      const t = await client.threads.create({ metadata: { a: 1 } });
      console.log(t);
      const out = await client.runs.wait(t.thread_id, 'agent', { input: userInput('hello there') });
      console.log(JSON.stringify(out));
      const st = await client.threads.getState(t.thread_id);
      console.log(JSON.stringify(st));
      if (process.env.NOSTREAM) {} else for await (const ev of client.runs.stream(t.thread_id, 'agent', { input: userInput('a somewhat longer message to be streamed back in pieces'), streamMode: ['messages-tuple', 'values'] })) console.log(JSON.stringify(ev).slice(0,80));
      console.log('STREAM DONE');
    } finally { console.log('CLOSING'); await app.close(); console.log('CLOSED'); }
  });
});
