/**
 * The command registry's own rules, with an in-memory access policy standing in for the database one: role
 * checks before arguments are even looked at, typed arguments, failures, fail-closed access, and what is audited.
 * (The real policy and audit store run in the other files of this folder, through every platform.)
 */
import { describe, expect, it } from 'vitest';
import { grammar, fail } from '../../src/access/commands/args.js';
import { discordMentions } from '../../adapters/discord/parse.js';
import { slackMentions } from '../../adapters/slack/parse.js';
import { telegramMentions } from '../../adapters/telegram/parse.js';
import { mentionSyntax } from '../../src/access/mentions.js';
import type { ChannelAdapter } from '../../src/core/adapter.js';
import { AdapterRegistry } from '../../src/core/registry.js';
import {
  CommandError,
  CommandRegistry,
  defineCommand,
  type AuditEntry,
  type Caller,
  type Role,
} from '../../src/commands/registry.js';
import type { CommandInvocation } from '../../src/core/adapter.js';

function setup(
  roles: Record<string, Role>,
  o: { failAccess?: boolean; failAudit?: boolean; blocked?: Record<string, string> } = {},
) {
  const audits: AuditEntry[] = [];
  const ran: string[] = [];
  const registry = new CommandRegistry([
    defineCommand<{ n: number }>({
      name: 'double',
      description: 'Double a number',
      usage: '<n>',
      role: 'user',
      args: grammar((w) => {
        const n = Number(w[0]);
        if (w.length !== 1 || !Number.isFinite(n)) fail('Give one number.');
        return { n };
      }),
      roleFor: (a) => (a.n > 100 ? 'admin' : 'user'),
      run: (_inv, a) => {
        ran.push(`double ${a.n}`);
        return { text: String(a.n * 2), ephemeral: true };
      },
    }),
    defineCommand({
      name: 'boom',
      description: 'Fails',
      role: 'admin',
      run: () => {
        throw new Error('disk on fire');
      },
    }),
    defineCommand({
      name: 'nope',
      description: 'Says no',
      role: 'admin',
      run: () => {
        throw new CommandError('No such thing.');
      },
    }),
  ]);
  registry.setAccess({
    async caller(inv): Promise<Caller> {
      if (o.failAccess) throw new Error('database down');
      return {
        userKey: `local:default:${inv.user.id}`,
        principal: `local:${inv.user.id}`,
        role: roles[inv.user.id] ?? 'user',
        blocked: o.blocked?.[inv.user.id],
      };
    },
    async audit(e) {
      if (o.failAudit) throw new Error('audit store down');
      audits.push(e);
    },
  });
  const inv = (user: string, name: string, args = ''): CommandInvocation => ({
    platform: 'local',
    tenant: 'default',
    conversation: { platform: 'local', tenant: 'default', channel: 'c', kind: 'group' },
    user: { id: user },
    name,
    args,
    id: `local:${Math.random()}`,
  });
  const run = async (user: string, name: string, args = '') => (await registry.invoke(inv(user, name, args))).text;
  return { registry, run, audits, ran };
}

describe('command registry', () => {
  it('parses typed arguments; a form that needs a higher role is refused before it runs and is audited', async () => {
    const { run, audits, ran } = setup({ ada: 'admin' });
    expect(await run('bob', 'double', '21')).toBe('42');
    expect(await run('bob', 'double', 'x')).toBe('Give one number.\nUsage: `/double <n>`');
    expect(await run('bob', 'double', '500')).toBe(
      'Sorry, `/double …` is only for admins. Try `/help` for what you can use.',
    );
    expect(await run('ada', 'double', '500')).toBe('1000');
    expect(ran).toEqual(['double 21', 'double 500']);
    // Only the admin form is audited, refused or not.
    expect(audits.map((a) => [a.caller.principal, a.invocation.args, a.required, a.result])).toEqual([
      ['local:bob', '500', 'admin', 'refused'],
      ['local:ada', '500', 'admin', 'ok'],
    ]);
  });

  it('audits failures and a command\'s own "no"; an unknown command is just answered', async () => {
    const { run, audits } = setup({ ada: 'admin' });
    expect(await run('ada', 'boom')).toBe('Sorry, `/boom` failed: disk on fire');
    expect(await run('ada', 'nope')).toBe('No such thing.');
    expect(await run('ada', 'what')).toBe('Unknown command `/what`. Try `/help`.');
    expect(audits.map((a) => [a.invocation.name, a.result, a.detail])).toEqual([
      ['boom', 'error', 'Sorry, `/boom` failed: disk on fire'],
      ['nope', 'invalid', 'No such thing.'],
    ]);
  });

  it('fails closed when access cannot be checked, refuses blocked callers, and still answers when the audit store is down', async () => {
    expect(await setup({}, { failAccess: true }).run('ada', 'double', '1')).toMatch(/cannot check your access/);
    const blocked = setup({}, { blocked: { eve: "Sorry, you can't use this bot." } });
    expect(await blocked.run('eve', 'double', '1')).toBe("Sorry, you can't use this bot.");
    expect(blocked.ran).toEqual([]);
    expect(await setup({ ada: 'admin' }, { failAudit: true }).run('ada', 'double', '500')).toBe('1000');
  });

  it('help shows each role what it may run', async () => {
    const { run } = setup({ ada: 'admin' });
    expect(await run('bob', 'help')).toBe(
      '**Commands**\n- `/double <n>` — Double a number\n- `/help` — List the commands you can use',
    );
    expect(await run('ada', 'help')).toContain('- `/boom` — Fails');
  });
});

describe("user arguments in each platform's mention form", () => {
  it.each([
    ['slack', '<@U024BE7LH>', { kind: 'id', id: 'U024BE7LH' }],
    ['slack', '<@U024BE7LH|bob>', { kind: 'id', id: 'U024BE7LH' }],
    ['slack', 'W0123ABC', { kind: 'id', id: 'W0123ABC' }],
    ['slack', '@bob', undefined],
    ['discord', '<@80351110224678912>', { kind: 'id', id: '80351110224678912' }],
    ['discord', '<@!80351110224678912>', { kind: 'id', id: '80351110224678912' }],
    ['discord', '80351110224678912', { kind: 'id', id: '80351110224678912' }],
    ['discord', '<#80351110224678912>', undefined],
    ['telegram', '@Some_User', { kind: 'username', username: 'some_user' }],
    ['telegram', '123456789', { kind: 'id', id: '123456789' }],
    ['telegram', '<@123>', undefined],
    ['local', 'ann', { kind: 'id', id: 'ann' }],
  ] as const)('%s %s', (platform, token, expected) => {
    // Each adapter declares its forms; the access module asks the invoking platform's adapter (local: a plain id).
    const registry = new AdapterRegistry(
      [
        ['slack', slackMentions],
        ['discord', discordMentions],
        ['telegram', telegramMentions],
      ].map(([platform, mentions]) => ({ platform, mentions }) as unknown as ChannelAdapter),
    );
    expect(mentionSyntax(registry, platform).parse(token)).toEqual(expected);
  });
});
