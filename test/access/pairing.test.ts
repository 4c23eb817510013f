/**
 * DM policies end to end. Telegram runs `pairing`: an unknown user's DM is answered with a short code and nothing
 * else; an admin (here on Slack: roles hold across platforms' commands) approves it with `/allow <code>`; the user
 * is told, and from then on answered normally. Codes expire. The local channel runs `allowlist`. Groups are not
 * under the DM policy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  localPerson,
  slackPerson,
  sleep,
  startPlatforms,
  telegramPerson,
  waitFor,
  type Person,
  type Platforms,
} from './platforms.js';

const TTL_SECONDS = 5;
const admin = slackPerson('Ada');
const localAdmin = localPerson('boss');

let p: Platforms;
beforeAll(async () => {
  p = await startPlatforms({
    ADMIN_USERS: `slack:${admin.id},local:${localAdmin.id}`,
    DM_POLICY: 'open',
    DM_POLICY_TELEGRAM: 'pairing',
    DM_POLICY_LOCAL: 'allowlist',
    PAIRING_CODE_TTL_SECONDS: String(TTL_SECONDS),
  });
});
afterAll(async () => p?.close());

const replies = (who: Person, n: number) =>
  waitFor(async () => {
    const r = await p.dmReplies(who);
    return r.length >= n && r;
  }, `${n} replies to ${who.name}`);
const codeIn = (text: string) => /pairing code is ([A-Z0-9]{6})/.exec(text)?.[1];

describe('pairing (Telegram)', () => {
  it('unknown user gets a code and nothing else; an admin approves it; the user is told and then answered', async () => {
    const nina = telegramPerson('Nina');
    await p.dm(nina, 'hello bot, what can you do?');
    const [first] = await replies(nina, 1);
    const code = codeIn(first!);
    expect(code, first).toBeDefined();
    expect(first).toContain(`/allow ${code}`);
    expect(first).toMatch(/expires in 1 minute/);

    // While pending, more messages get the same code again, never an answer from the agent.
    await p.dm(nina, 'please?');
    const two = await replies(nina, 2);
    expect(codeIn(two[1]!)).toBe(code);
    expect(two.join('\n')).not.toContain('Echo');
    // Commands in the DM are refused too.
    expect(await p.command(nina, 'usage', '', { dm: true })).toContain('This bot is private');

    expect(await p.command(admin, 'allow', code!.toLowerCase())).toContain(`Approved Nina (\`telegram:${nina.id}\`)`);
    const told = await replies(nina, 4);
    expect(told[3]).toBe('Good news: an admin approved you. Go ahead and write to me again.');

    await p.dm(nina, 'now for real');
    const after = await replies(nina, 5);
    expect(after[4]).toMatch(/^Echo: .*now for real$/);
    // The code is used up.
    expect(await p.command(admin, 'allow', code!)).toContain(`No pending pairing code \`${code}\``);
    expect(
      (await p.sql`select result from access_audit where command = 'allow' order by at`).map((r) => r.result),
    ).toEqual(['ok', 'invalid']);
  });

  it('a code nobody approved expires; writing again gives a new one', async () => {
    const omar = telegramPerson('Omar');
    await p.dm(omar, 'hi');
    const code = codeIn((await replies(omar, 1))[0]!);
    expect(code).toBeDefined();
    await sleep(TTL_SECONDS * 1000 + 300);
    expect(await p.command(admin, 'allow', code!)).toContain('No pending pairing code');
    await p.dm(omar, 'hi again');
    const again = codeIn((await replies(omar, 2))[1]!);
    expect(again).toBeDefined();
    expect(again).not.toBe(code);
    expect((await p.dmReplies(omar)).join('\n')).not.toContain('Echo');
  });

  it('a code-shaped word that is no pending code is refused, even where it reads as a user id (UEPAVM on Slack)', async () => {
    const before = await p.sql`select count(*)::int as n from access_users where allowed`;
    expect(await p.command(admin, 'allow', 'UEPAVM')).toContain('No pending pairing code `UEPAVM`');
    expect(await p.sql`select count(*)::int as n from access_users where allowed`).toEqual(before); // nobody was allowed
  });

  it('other platforms keep their own policy: a Slack DM (open) is answered at once', async () => {
    const sue = slackPerson('Sue');
    await p.dm(sue, 'open door');
    expect(await replies(sue, 1)).toEqual(['Echo: open door']);
  });
});

describe('allowlist (local)', () => {
  it('refuses unknown users in DMs until an admin allows them; groups are not under the DM policy', async () => {
    const lee = localPerson('lee');
    const dm = (text: string) =>
      p.app.post('/local/messages', { conversation: `dm-${lee.id}`, user: lee.id, kind: 'dm', text, wait: true });
    const refused = await dm('let me in');
    expect(refused.body.replies).toEqual([
      { text: 'Sorry, this bot only talks to people an admin has allowed. Ask an admin to let you in.' },
    ]);
    const [turn] = await p.sql`select outcome from turns where id = ${refused.body.turnId}`;
    expect(turn!.outcome).toBe('refused');

    const group = await p.app.post('/local/messages', {
      conversation: 'team-room',
      user: lee.id,
      kind: 'group',
      text: 'in the group',
      wait: true,
    });
    expect(group.body.replies).toEqual([{ text: `Echo: [${lee.id}] in the group` }]);

    expect(await p.command(localAdmin, 'allow', lee.id)).toBe(`\`${lee.id}\` may now write to me.`);
    const ok = await dm('thanks');
    expect(ok.body.replies[0].text).toMatch(/^Echo: .*thanks$/);

    // Admins are always allowed.
    const boss = await p.app.post('/local/messages', {
      conversation: `dm-${localAdmin.id}`,
      user: localAdmin.id,
      kind: 'dm',
      text: 'me too',
      wait: true,
    });
    expect(boss.body.replies).toEqual([{ text: 'Echo: me too' }]);
  });
});
