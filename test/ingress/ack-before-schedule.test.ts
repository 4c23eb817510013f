/**
 * The platform's acknowledgement waits for the message to be safe in its conversation's inbox, not for the turn job
 * (src/ingress/sink.ts): adding the job is BullMQ's heaviest script and would double the time to the ack. A turn
 * job that could not be added (Redis failed it, or the process died first) is added by the workers' sweep, and
 * the message is answered once.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { keys } from '../../src/queue/keys.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

const lines: string[] = [];
let app: TestApp;
beforeAll(async () => {
  const sink = new Writable({ write: (chunk, _enc, done) => void (lines.push(String(chunk)), done()) });
  app = await startTestApp({ log: pino({ level: 'warn' }, sink), sweepEveryMs: 500 });
});
afterAll(async () => app?.close());

it('acknowledges a message whose turn job failed to be added, and the sweep gets it answered once', async () => {
  const schedule = vi.spyOn(app.queues, 'scheduleTurn').mockRejectedValueOnce(new Error('connection lost'));
  const ack = await app.post('/local/messages', { conversation: 'late-turn', user: 'ann', text: 'private words' });
  expect(ack.status).toBe(202);
  expect(schedule).toHaveBeenCalledTimes(1);
  // The message was not lost with its turn job: the next sweep schedules the conversation and it is answered.
  const out = await app.post('/local/messages', {
    conversation: 'late-turn',
    user: 'ann',
    text: 'and again',
    wait: true,
  });
  expect(out.status).toBe(200);
  const replies = [...(await app.redis.xrange(keys(app.config.KEY_PREFIX).localOut('late-turn'), '-', '+'))];
  const texts = replies.map(([, fields]) => fields[fields.indexOf('text') + 1]);
  // Both messages answered, each once (one turn, or two: the second arrived while the first waited for the sweep).
  expect(texts.join('\n')).toContain('private words');
  expect(texts.join('\n')).toContain('and again');
  expect(texts.filter((t) => t?.includes('private words'))).toHaveLength(1);
  const warned = lines.filter((l) => l.includes('turn not scheduled'));
  expect(warned).toHaveLength(1);
  expect(warned[0]).not.toContain('private words');
}, 30_000);
