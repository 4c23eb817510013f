/**
 * Maintenance pause: while paused nothing is consumed, each conversation where someone writes gets exactly one
 * polite notice per pause (however often its turn looks again), and after /resume every held message is answered
 * exactly once, in order, in one turn per conversation. Resume wakes held conversations at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PAUSE_NOTICE } from '../../src/access/pause.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import {
  localPerson,
  sleep,
  startPlatforms,
  telegramPerson,
  waitFor,
  type Person,
  type Platforms,
} from './platforms.js';

describe('pause and resume (Telegram and local, held turns look again every 300 ms)', () => {
  const admin = localPerson('boss');
  let p: Platforms;
  beforeAll(async () => {
    p = await startPlatforms({ ADMIN_USERS: `local:${admin.id}`, PAUSE_RECHECK_MS: '300' });
  });
  afterAll(async () => p?.close());

  const replies = (who: Person, n: number) =>
    waitFor(async () => {
      const r = await p.dmReplies(who);
      return r.length >= n && r;
    }, `${n} replies to ${who.name}`);

  it('holds messages with one notice per conversation, then answers each exactly once after resume', async () => {
    const tg = telegramPerson('Tia');
    const ann = localPerson('ann');
    const ben = localPerson('ben');
    expect(await p.command(admin, 'pause')).toContain('Paused.');
    expect(await p.command(admin, 'pause')).toMatch(/^Already paused since/);

    await p.dm(tg, 'first while paused');
    await p.dm(ann, 'a1');
    await p.dm(ann, 'a2');
    await p.dm(ben, 'b1');
    for (const who of [tg, ann, ben]) expect(await replies(who, 1)).toEqual([PAUSE_NOTICE]);
    await p.dm(tg, 'second while paused');
    await sleep(1_500); // several looks (every 300 ms) while still paused
    for (const who of [tg, ann, ben]) expect(await p.dmReplies(who), who.name).toEqual([PAUSE_NOTICE]);
    expect(await p.command(admin, 'status')).toMatch(/\*\*paused\*\* since/);
    const consumed = await p.sql`select count(*)::int as n from inbound_messages`;
    expect(consumed[0]!.n).toBe(0);

    expect(await p.command(admin, 'resume')).toMatch(/^Resumed\. [1-9]\d* conversations? with waiting messages/);
    expect((await replies(tg, 2))[1]).toBe('Echo: first while paused | second while paused');
    expect((await replies(ann, 2))[1]).toBe('Echo: a1 | a2');
    expect((await replies(ben, 2))[1]).toBe('Echo: b1');
    await sleep(1_000);
    for (const who of [tg, ann, ben]) expect(await p.dmReplies(who), who.name).toHaveLength(2);
    const rows = await p.sql<{ n: number }[]>`select count(*)::int as n from inbound_messages`;
    expect(rows[0]!.n).toBe(5);
    expect(await p.command(admin, 'resume')).toBe('I was not paused.');
  });

  it('a new pause is a new notice', async () => {
    const cy = localPerson('cy');
    await p.dm(cy, 'before');
    await replies(cy, 1);
    await p.command(admin, 'pause');
    await p.dm(cy, 'during one');
    await replies(cy, 2);
    await p.command(admin, 'resume');
    await replies(cy, 3);
    await p.command(admin, 'pause');
    await p.dm(cy, 'during two');
    await replies(cy, 4);
    await p.command(admin, 'resume');
    expect(await replies(cy, 5)).toEqual([
      'Echo: before',
      PAUSE_NOTICE,
      'Echo: during one',
      PAUSE_NOTICE,
      'Echo: during two',
    ]);
  });
});

describe('resume wakes held conversations at once', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { ADMIN_USERS: 'local:boss', PAUSE_RECHECK_MS: '60000' } });
  });
  afterAll(async () => app?.close());

  it('does not wait for the next look (60 s here)', async () => {
    const cmd = async (text: string) =>
      (await app.post('/local/messages', { conversation: 'ops', user: 'boss', text })).body.replies[0].text as string;
    expect(await cmd('/pause')).toContain('Paused.');
    const held = app.post('/local/messages', {
      conversation: 'dm-dora',
      user: 'dora',
      kind: 'dm',
      text: 'are you there?',
      wait: true,
    });
    await sleep(700);
    const resumedAt = Date.now();
    expect(await cmd('/resume')).toContain('Resumed.');
    const res = await held;
    expect(res.body.replies).toEqual([{ text: 'Echo: are you there?' }]);
    expect(Date.now() - resumedAt).toBeLessThan(5_000);
  });
});
