/**
 * A turn streams its tokens only while somebody watches, and asks Redis who does (PUBSUB NUMSUB) as it starts.
 * When that question gets no answer (Redis slow past the command timeout, or a Redis that refuses PUBSUB, as some
 * managed services do with introspection commands), the turn must stream anyway: the web chat and an agent API
 * stream would otherwise show nothing until the whole answer is in (seen once in CI under load).
 */
import type { Client } from '@langchain/langgraph-sdk';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { lastAi, startApiApp, userInput, type ApiTestApp } from '../api/helpers.js';
import { startPrivateRedis } from '../helpers/services.js';

let redis: Awaited<ReturnType<typeof startPrivateRedis>>;
let app: ApiTestApp;
let client: Client;
beforeAll(async () => {
  redis = await startPrivateRedis(['--rename-command', 'PUBSUB', '']);
  app = await startApiApp({ RATE_LIMIT_PER_MINUTE: '0' }, { redisUrl: redis.url });
  ({ client } = await app.newClient('no-numsub'));
});
afterAll(async () => {
  await app?.close();
  await redis?.stop();
});

it('streams tokens while the model writes when Redis does not say who watches', async () => {
  const t = await client.threads.create();
  const input = `[[drip:300]] ${Array.from({ length: 30 }, (_, i) => `w${i}`).join(' ')}`;
  const events: { event: string; data: any; at: number }[] = [];
  for await (const ev of client.runs.stream(t.thread_id, 'agent', {
    input: userInput(input),
    streamMode: ['messages-tuple', 'values'],
  }))
    events.push({ ...(ev as { event: string; data: any }), at: Date.now() });
  const deltas = events.filter((e) => e.event === 'messages');
  const end = events.at(-1)!.at;
  // The model writes 11 deltas 300 ms apart (~3.3 s): the first words show long before the end, not all at once
  // when it is done.
  expect(end - deltas[0]!.at).toBeGreaterThan(1_500);
  expect(deltas.filter((d) => d.at < end - 1_000).length).toBeGreaterThanOrEqual(3);
  expect(deltas.map((d) => d.data[0].content as string).join('')).toBe(lastAi(events.at(-1)!.data));
  expect(lastAi(events.at(-1)!.data)).toBe(`Echo: ${input}`);
});
