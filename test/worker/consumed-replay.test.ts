/**
 * A worker killed after its turn committed but before it acked the inbox leaves the batch behind. The next turn
 * reads the conversation's state and which of the batch's events were consumed in one statement: a consumed event
 * is never run again, its reply is not sent twice, and the entry leaves the inbox.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import postgres from 'postgres';
import { toInboundEvent } from '../../adapters/local/parse.js';
import { Inbox } from '../../src/queue/inbox.js';
import { keys as makeKeys } from '../../src/queue/keys.js';
import { Queues } from '../../src/queue/queues.js';
import { createRedis } from '../../src/queue/redis.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { REDIS_URL } from '../helpers/services.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => app?.close());

describe('an inbox entry left behind by a crash after commit', () => {
  it('is acked without a second turn or a second reply; a new message is answered as usual', async () => {
    const first = await app.post('/local/messages', {
      conversation: 'cr1',
      user: 'ann',
      text: 'hello',
      id: 'cr-1',
      wait: true,
    });
    expect(first.body.replies).toEqual([{ text: 'Echo: [ann] hello' }]);

    // The same event back in the inbox, as if the ack never happened (its dedupe mark cleared to let it in).
    const redis = createRedis(REDIS_URL);
    const keys = makeKeys(app.config.KEY_PREFIX);
    const queues = new Queues(redis, keys);
    const sql = postgres(app.db.url, { max: 1, onnotice: () => undefined });
    try {
      const key = 'local:default:cr1';
      const event = toInboundEvent({
        conversation: 'cr1',
        user: 'ann',
        text: 'hello',
        id: 'cr-1',
        kind: 'group',
        attachments: [],
      } as never);
      await redis.del(keys.seen(event.id));
      expect((await new Inbox(redis, keys, 60).append(key, event)).fresh).toBe(true);
      await queues.scheduleTurn(key);
      for (let i = 0; i < 200 && (await redis.xlen(keys.inbox(key))) > 0; i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(await redis.xlen(keys.inbox(key))).toBe(0);

      const next = await app.post('/local/messages', {
        conversation: 'cr1',
        user: 'ann',
        text: 'again',
        id: 'cr-2',
        wait: true,
      });
      expect(next.body.replies).toEqual([{ text: 'Echo: [ann] again' }]);
      const turns = await sql`select event_ids from turns where conversation_key = ${key} order by seq`;
      expect(turns.map((t) => t.event_ids)).toEqual([['local:cr-1'], ['local:cr-2']]);
      const sent = await sql`select markdown from outbox where conversation_key = ${key} order by seq`;
      expect(sent.map((r) => r.markdown)).toEqual(['Echo: [ann] hello', 'Echo: [ann] again']);
    } finally {
      await queues.close();
      redis.disconnect();
      await sql.end();
    }
  });
});
