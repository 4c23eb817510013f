/**
 * Hostile input through the real ingress: text Postgres cannot store is cleaned at the door (so the conversation
 * is answered, and so is the next message), and attachments are capped and counted against MAX_INPUT_CHARS.
 */
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandRegistry } from '../../src/commands/registry.js';
import type { InboundEvent } from '../../src/core/types.js';
import { createIngressSink } from '../../src/ingress/sink.js';
import { AdapterRegistry } from '../../src/core/registry.js';
import { createLocalAdapter } from '../../adapters/local/index.js';
import { Inbox } from '../../src/queue/inbox.js';
import { keys as makeKeys } from '../../src/queue/keys.js';
import { Queues } from '../../src/queue/queues.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { cleanRedisPrefix, REDIS_URL, uniqueName } from '../helpers/services.js';

describe('NUL and lone surrogates through the local channel', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { RATE_LIMIT_PER_MINUTE: '0' } });
  });
  afterAll(async () => app?.close());

  it('answers a message carrying NUL, a lone surrogate and C1 controls with its cleaned text, and then the next one', async () => {
    const hostile = await app.post('/local/messages', {
      conversation: 'c-nul',
      user: 'u1',
      name: 'Ann\u0000',
      text: 'a\u0000b \ud800 c\u0085d',
      wait: true,
    });
    expect(hostile.status).toBe(200);
    expect(hostile.body.replies).toEqual([{ text: 'Echo: [Ann] ab \ufffd cd' }]); // the name was cleaned too
    const next = await app.post('/local/messages', { conversation: 'c-nul', user: 'u1', text: 'and now?', wait: true });
    expect(next.body.replies).toEqual([{ text: 'Echo: [u1] and now?' }]);
  }, 60_000);
});

describe('attachment limits at the sink', () => {
  const prefix = uniqueName('t');
  const k = makeKeys(prefix);
  let redis: Redis;
  let queues: Queues;
  let inbox: Inbox;
  beforeAll(() => {
    redis = new Redis(REDIS_URL);
    queues = new Queues(redis, k);
    inbox = new Inbox(redis, k, 3600);
  });
  afterAll(async () => {
    await queues.close();
    redis.disconnect();
    await cleanRedisPrefix(prefix);
  });

  // The local channel's adapter: its senders read a 413 (a declared capability the sink reads).
  const adapters = () =>
    new AdapterRegistry([
      createLocalAdapter({
        redis,
        streamKey: k.localOut,
        notifyChannel: k.localSent,
        connect: () => redis,
        pollMax: 1,
        log: pino({ level: 'silent' }),
        waitTimeoutMs: 1_000,
        routes: false,
      }),
    ]);
  const sink = (maxAttachmentBytes = 600) =>
    createIngressSink({
      inbox,
      queues,
      redis,
      keys: k,
      commands: new CommandRegistry(),
      adapters: adapters(),
      log: pino({ level: 'silent' }),
      maxInputChars: 1_000,
      maxAttachments: 3,
      maxAttachmentBytes,
      claimTtlSeconds: 60,
    });
  const at = new Date().toISOString();
  const event = (
    platform: 'slack' | 'local',
    id: string,
    attachments: InboundEvent['attachments'],
    text = 'see files',
  ): InboundEvent => ({
    id: `${platform}:${id}`,
    platform,
    tenant: 'T1',
    conversation: { platform, tenant: 'T1', channel: 'C1', kind: 'group' },
    sender: { id: 'U1', isBot: false },
    text,
    attachments,
    mentionsBot: true,
    kind: 'message',
    sentAt: at,
    receivedAt: at,
  });
  const stored = async (platform: string) => (await inbox.read(`${platform}:T1:C1`, 100)).at(-1)!.event!;

  it('keeps only the first attachments within the count and metadata-size caps', async () => {
    const files = Array.from({ length: 50 }, (_, i) => ({
      name: `f${i}.png`,
      mimeType: 'image/png',
      url: `https://files.example/${i}`,
    }));
    expect(await sink().submit(event('slack', 'many', files))).toBe('accepted');
    expect((await stored('slack')).attachments.map((a) => a.name)).toEqual(['f0.png', 'f1.png', 'f2.png']);
    const big = [
      { name: 'a', url: `https://x/${'a'.repeat(400)}` },
      { name: 'b', url: `https://x/${'b'.repeat(400)}` },
    ];
    await sink().submit(event('slack', 'big', big));
    expect((await stored('slack')).attachments.map((a) => a.name)).toEqual(['a']); // the second would pass 600 bytes
  });

  it('counts attachment names, types and URLs against MAX_INPUT_CHARS', async () => {
    const long = [{ name: 'n'.repeat(300), url: `https://x/${'u'.repeat(280)}` }];
    // Text alone is within the limit; with its attachment it is not.
    const local = sink(4_000).submit(event('local', 'long', long, 't'.repeat(500)));
    await expect(local).rejects.toMatchObject({ status: 413 });
    await sink(4_000).submit(event('slack', 'long', long, 't'.repeat(500)));
    const e = await stored('slack');
    expect(e).toMatchObject({ text: '', attachments: [], tooLongChars: 500 + 300 + 290 });
  });
});
