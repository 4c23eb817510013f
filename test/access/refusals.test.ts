/**
 * Every admin and owner command, run by a plain user on every platform path — a signed Slack slash command
 * (answer via response_url), a signed Discord APPLICATION_COMMAND interaction (deferred, then @original edited),
 * a Telegram `/cmd@bot` in a group through the webhook, and the local channel — is refused politely, does nothing,
 * and is written to the audit log as refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditOf, personOn, startPlatforms, type PlatformName, type Platforms } from './platforms.js';

/** Each admin/owner command with arguments that would do something if it ran. */
const ADMIN_COMMANDS: Array<[name: string, args: (victim: string) => string, needs: 'admins' | 'owners']> = [
  ['status', () => '', 'admins'],
  ['sessions', () => '', 'admins'],
  ['reset', (v) => v, 'admins'],
  ['memory', (v) => v, 'admins'],
  ['schedule', () => 'list', 'admins'],
  ['broadcast', () => 'free pizza for everyone', 'admins'],
  ['pause', () => '', 'admins'],
  ['resume', () => '', 'admins'],
  ['ban', (v) => `${v} spam`, 'admins'],
  ['unban', (v) => v, 'admins'],
  ['usage', () => 'all', 'admins'],
  ['allow', () => 'ABCDEF', 'admins'],
  ['audit', () => '', 'admins'],
  ['grant', (v) => `${v} admin`, 'owners'],
  ['revoke', (v) => v, 'owners'],
];

let p: Platforms;
beforeAll(async () => {
  p = await startPlatforms({ ADMIN_USERS: 'local:someone-else', OWNER_USERS: 'local:the-owner' });
});
afterAll(async () => p?.close());

describe.each<PlatformName>(['slack', 'discord', 'telegram', 'local'])('a plain user on %s', (platform) => {
  it('is refused every admin and owner command, politely, and each refusal is audited', async () => {
    const mallory = personOn(platform, 'Mallory');
    const victim = personOn(platform, 'Victor');
    for (const [name, args, needs] of ADMIN_COMMANDS) {
      const answer = await p.command(mallory, name, args(victim.mention));
      expect(answer, `/${name} on ${platform}`).toMatch(new RegExp(`is only for ${needs}`));
      expect(answer).toContain('/help');
    }
    const rows = await auditOf(p.sql, mallory);
    expect(rows.map((r) => r.command)).toEqual(ADMIN_COMMANDS.map(([n]) => n));
    for (const [i, row] of rows.entries()) {
      expect(row).toMatchObject({
        result: 'refused',
        role: 'user',
        platform,
        required: ADMIN_COMMANDS[i]![2] === 'owners' ? 'owner' : 'admin',
      });
      expect(row.args).toBe(ADMIN_COMMANDS[i]![1](victim.mention));
    }

    // Nothing happened: not paused, the victim not banned — both still get answers.
    await p.dm(victim, 'still there?');
    await expect.poll(() => p.dmReplies(victim), { timeout: 10_000 }).toEqual(['Echo: still there?']);
    await p.dm(mallory, 'and me?');
    await expect.poll(() => p.dmReplies(mallory), { timeout: 10_000 }).toEqual(['Echo: and me?']);
  });

  it('sees only user commands in /help, and user commands still work', async () => {
    const user = personOn(platform, 'Ursula');
    const help = await p.command(user, 'help');
    for (const c of ['/help', '/reset', '/usage', '/memory', '/forget', '/checkin']) expect(help).toContain(c);
    for (const c of ['/status', '/ban', '/broadcast', '/pause', '/grant', '/audit', '/allow'])
      expect(help).not.toContain(c);
    expect(await p.command(user, 'usage')).toMatch(/today: 0 tokens/);
    // User commands are not audited (only admin forms are).
    expect(await auditOf(p.sql, user)).toEqual([]);
  });
});
