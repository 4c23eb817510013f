/**
 * The commands wired to the scheduler module, through the local channel: `/checkin` (on / off / time / timezone /
 * announcements) and the admin's `/schedule` (list / add / remove), including a scheduled message that arrives.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ env: { ADMIN_USERS: 'local:boss' } });
});
afterAll(async () => app?.close());

const run = async (user: string, conversation: string, text: string, kind: 'dm' | 'group' = 'dm') => {
  const res = await app.post('/local/messages', { conversation, user, kind, text });
  expect(res.status).toBe(200);
  return res.body.replies[0].text as string;
};
const stream = async (conversation: string) =>
  (
    (await (await fetch(`${app.url}/local/conversations/${conversation}/messages`)).json()) as {
      replies: { text: string }[];
    }
  ).replies.map((r) => r.text);

describe('/checkin', () => {
  it('turns check-ins on at a time, changes the timezone, opts in to announcements, and turns them off', async () => {
    const me = (t: string) => run('kim', 'dm-kim', t);
    expect(await me('/checkin')).toMatch(/^Check-ins are off\. Turn them on with `\/checkin on`/);
    expect(await me('/checkin time 7:30')).toMatch(
      /^Check-ins are \*\*on\*\*: daily at 07:30, timezone UTC; next \w{3} \d{4}-\d\d-\d\d 07:30 \(UTC\)\./,
    );
    expect(await me('/checkin timezone Europe/Berlin')).toMatch(
      /daily at 07:30, timezone Europe\/Berlin; next \w{3} \d{4}-\d\d-\d\d 07:30 \(Europe\/Berlin\)/,
    );
    expect(await me('/checkin announcements on')).toContain('Announcements: on.');
    expect(await me('/checkin off')).toBe('Check-ins are off.');
    expect(await me('/checkin')).toMatch(
      /^Check-ins are \*\*off\*\* \(user\): daily at 07:30, timezone Europe\/Berlin\. Announcements: on\./,
    );
    expect(await me('/checkin on')).toMatch(/^Check-ins are \*\*on\*\*: daily at 07:30/);
  });

  it("checks its arguments, and leaves a group's check-in to admins", async () => {
    expect(await run('lin', 'dm-lin', '/checkin time 25:00')).toContain('Give the time as HH:MM');
    expect(await run('lin', 'dm-lin', '/checkin timezone Mars/Base')).toContain('Unknown timezone `Mars/Base`');
    expect(await run('lin', 'dm-lin', '/checkin timezone Asia/Tokyo')).toMatch(
      /^Check-ins are \*\*off\*\*.*timezone Asia\/Tokyo/,
    ); // a timezone alone does not switch them on
    expect(await run('kim', 'team', '/checkin on', 'group')).toMatch(/only for admins/);
    expect(await run('boss', 'team', '/checkin on', 'group')).toMatch(/^Check-ins are \*\*on\*\*/);
  });
});

describe('/schedule', () => {
  it('adds a one-off message here that arrives, lists and removes scheduled messages', async () => {
    const added = await run('boss', 'ops-room', '/schedule add here in 1 second | Stand-up starts now', 'group');
    expect(added).toMatch(
      /^Scheduled `[0-9a-f-]{36}` to `local:default:ops-room`: once at \d{4}-\d\d-\d\d \d\d:\d\d UTC/,
    );
    const deadline = Date.now() + 15_000;
    while (!(await stream('ops-room')).includes('Stand-up starts now') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect(await stream('ops-room')).toEqual(['Stand-up starts now']);

    const daily = await run('boss', 'ops-room', '/schedule add daily 09:00 | Good morning, team', 'group');
    const id = /`([0-9a-f-]{36})`/.exec(daily)![1]!;
    expect(daily).toContain('to everyone opted in to announcements: daily 09:00 (UTC)');
    const list = await run('boss', 'ops-room', '/schedule list', 'group');
    expect(list).toContain(`\`${id}\` to everyone opted in to announcements, daily 09:00 (UTC)`);
    expect(list).toContain('Good morning, team');
    expect(await run('boss', 'ops-room', `/schedule remove ${id}`, 'group')).toBe(`Removed \`${id}\`.`);
    expect(await run('boss', 'ops-room', `/schedule remove ${id}`, 'group')).toBe(`No scheduled message \`${id}\`.`);
    expect(await run('boss', 'ops-room', '/schedule', 'group')).not.toContain(id);
  });

  it('explains its syntax', async () => {
    expect(await run('boss', 'ops-room', '/schedule add tomorrow at 9 Good morning', 'group')).toContain(
      'Separate when and the text with `|`',
    );
    expect(await run('boss', 'ops-room', '/schedule add every 5x | hi', 'group')).toContain('Use `every <n><s|m|h|d>`');
    expect(await run('boss', 'ops-room', '/schedule add next blue moon | hi', 'group')).toMatch(
      /^Could not schedule that: /,
    );
  });
});
