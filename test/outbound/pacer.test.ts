/** Per-channel pacing on real Redis: slots are handed out one interval apart, and a backlog's slots are kept. */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { reserveSendSlot } from '../../src/outbound/pacer.js';
import { REDIS_URL, uniqueName } from '../helpers/services.js';

const redis = new Redis(REDIS_URL);
const key = `${uniqueName('pacer')}:pace:C1`;
afterAll(async () => {
  await redis.del(key);
  redis.disconnect();
});

describe('send pacing', () => {
  it('spaces a burst one interval apart and remembers the last reserved slot until it is over', async () => {
    const waits: number[] = [];
    const started = Date.now();
    for (let i = 0; i < 10; i++) {
      const calledAfter = Date.now() - started;
      // Slot i is i intervals after the first: what this call waits plus the time the calls before it took.
      waits.push((await reserveSendSlot(redis, key, 1_000)) + calledAfter);
    }
    waits.forEach((w, i) => expect(Math.abs(w - i * 1_000)).toBeLessThan(20));
    // The tenth slot is ~9 s ahead: the reservation must outlive it, or the next sends would all go at once.
    expect(await redis.pttl(key)).toBeGreaterThan(9_000);
  });
});
