/**
 * One correlation id follows a message through ingress, the turn and the delivery, so an operator can grep one
 * id and see the whole story of a reply (or of a reply that never came).
 */
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { REDACT_PATHS } from '../../src/observability/logger.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { until } from '../helpers/wait.js';

interface Line {
  msg: string;
  correlationId?: string;
  turnId?: string;
  eventIds?: string[];
  [k: string]: unknown;
}
const lines: Line[] = [];
let app: TestApp;

beforeAll(async () => {
  const log = pino(
    { level: 'info', redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
    { write: (l: string) => void lines.push(JSON.parse(l) as Line) },
  );
  app = await startTestApp({ log, env: { RATE_LIMIT_PER_MINUTE: '0' } });
});
afterAll(async () => app?.close());

it('logs ingress, the committed turn and the delivered reply under the id of the message', async () => {
  const res = await app.post('/local/messages', {
    conversation: 'c-corr',
    user: 'u1',
    text: 'trace me please',
    wait: true,
  });
  expect(res.status).toBe(200);
  const id = res.body.id as string;
  const mine = await until(
    async () => lines.filter((l) => l.correlationId === id),
    (ls) => ls.some((l) => l.msg === 'reply delivered'),
  );
  expect(mine.map((l) => l.msg)).toEqual(
    expect.arrayContaining(['inbound event', 'turn committed', 'reply delivered']),
  );
  const turnIds = new Set(mine.filter((l) => l.msg !== 'inbound event').map((l) => l.turnId));
  expect(turnIds.size).toBe(1); // the worker's and the outbound's lines name the same turn
  expect(mine.find((l) => l.msg === 'turn committed')!.eventIds).toEqual([id]);
  // Another message gets its own id: the lines do not bleed into each other.
  const other = await app.post('/local/messages', {
    conversation: 'c-corr-2',
    user: 'u2',
    text: 'someone else',
    wait: true,
  });
  await until(
    async () => lines.filter((l) => l.correlationId === other.body.id && l.msg === 'reply delivered'),
    (ls) => ls.length === 1,
  );
  expect(lines.filter((l) => l.correlationId === id && l.msg === 'reply delivered')).toHaveLength(1);
  // Message bodies stay out of the logs at this level.
  expect(JSON.stringify(lines)).not.toContain('trace me please');
});
