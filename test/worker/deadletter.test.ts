/**
 * One poison message must not wedge its conversation. A raw NUL reaches the inbox as an entry from before the
 * ingress rule would (bypassing the sanitiser): its commit fails for good (Postgres refuses NUL), so after
 * DEADLETTER_AFTER_ATTEMPTS it is dead-lettered — the user is told once, the model was asked once, the next
 * message is answered, and an admin can list and re-run it.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { OfflineModel } from '../../src/agent/offline-model.js';
import { conversationKey, type InboundEvent } from '../../src/core/types.js';
import { Inbox } from '../../src/queue/inbox.js';
import { keys as makeKeys } from '../../src/queue/keys.js';
import { Queues } from '../../src/queue/queues.js';
import { DEAD_LETTER_NOTICE } from '../../src/worker/deadletter.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { REDIS_URL } from '../helpers/services.js';
import { sleep, waitFor } from '../helpers/wait.js';

const modelCalls = vi.spyOn(OfflineModel.prototype, 'getResponse');
let app: TestApp;
let redis: Redis;
let queues: Queues;

beforeAll(async () => {
  app = await startTestApp({
    env: { DEADLETTER_AFTER_ATTEMPTS: '3', RATE_LIMIT_PER_MINUTE: '0', ADMIN_USERS: 'local:admin' },
  });
  redis = new Redis(REDIS_URL);
  queues = new Queues(redis, makeKeys(app.config.KEY_PREFIX));
});
afterAll(async () => {
  await queues?.close();
  redis?.disconnect();
  await app?.close();
  modelCalls.mockRestore(); // test files share their process, and so the model's prototype
});

const callsMentioning = (s: string) =>
  modelCalls.mock.calls.filter(([req]) => JSON.stringify(req.input).includes(s)).length;

async function replies(conversation: string): Promise<string[]> {
  const res = await fetch(`${app.url}/local/conversations/${conversation}/messages`);
  return ((await res.json()) as { replies: { text: string }[] }).replies.map((r) => r.text);
}

const command = async (text: string) =>
  (await app.post('/local/messages', { conversation: 'ops', user: 'admin', text })).body.replies[0].text as string;

it('dead-letters a message that can never commit, tells the user once, and answers the next one', async () => {
  const first = await app.post('/local/messages', { conversation: 'c-poison', user: 'u1', text: 'hello', wait: true });
  expect(first.body.replies).toEqual([{ text: 'Echo: [u1] hello' }]);

  const at = new Date().toISOString();
  const poison: InboundEvent = {
    id: 'local:poison-1',
    platform: 'local',
    tenant: 'default',
    conversation: { platform: 'local', tenant: 'default', channel: 'c-poison', kind: 'group' },
    sender: { id: 'u1', isBot: false },
    text: 'poison\u0000pill',
    attachments: [],
    mentionsBot: true,
    kind: 'message',
    sentAt: at,
    receivedAt: at,
  };
  const key = conversationKey(poison.conversation);
  const k = makeKeys(app.config.KEY_PREFIX);
  await new Inbox(redis, k, 3600).append(key, poison);
  await queues.scheduleTurn(key);

  const notice = await waitFor(
    async () => (await replies('c-poison')).includes(DEAD_LETTER_NOTICE),
    'the dead-letter notice',
    60_000,
  );
  expect(notice).toBe(true);
  expect(await redis.hlen(k.deadLetters)).toBe(1);
  expect(await redis.exists(k.inbox(key), k.turnFailures(key))).toBe(0);
  // The model was asked once: the retries reused its answer instead of buying it again.
  expect(callsMentioning('poison')).toBe(1);

  const next = await app.post('/local/messages', {
    conversation: 'c-poison',
    user: 'u1',
    text: 'still there?',
    wait: true,
  });
  expect(next.body.replies).toEqual([{ text: 'Echo: [u1] still there?' }]);
  await sleep(1_500); // time for a duplicate notice, were one coming
  expect((await replies('c-poison')).filter((t) => t === DEAD_LETTER_NOTICE)).toHaveLength(1);
  expect(callsMentioning('poison')).toBe(1);

  // The admin sees it (never its text) and runs it again: through today's ingress rule, it is answered.
  const list = await command('/deadletters list');
  const id = /`(dl-[0-9a-f]+)`/.exec(list)?.[1];
  expect(id, list).toBeDefined();
  expect(list).toContain(`\`${key}\``);
  expect(list).toMatch(/SQLSTATE 22/);
  expect(list).not.toContain('pill');
  expect(await command('/deadletters list')).toContain('waiting');
  expect(
    await app
      .post('/local/messages', { conversation: 'ops', user: 'u1', text: `/deadletters retry ${id}` })
      .then((r) => r.body.replies[0].text),
  ).not.toContain('Re-running');
  expect(await command(`/deadletters retry ${id}`)).toContain('Re-running');
  await waitFor(async () => (await replies('c-poison')).includes('Echo: [u1] poisonpill'), 'the re-run answer', 30_000);
  expect(await command('/deadletters list')).toContain('re-run by `local:admin`');
  expect(await command('/audit')).toContain('/deadletters retry');
}, 120_000);
