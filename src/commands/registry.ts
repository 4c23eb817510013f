/**
 * One command registry, platform-independent. Adapters turn their native command forms (Slack slash commands,
 * Discord application commands, Telegram /commands, local "/x") into a CommandInvocation and post back the
 * CommandResult their own way.
 *
 * Every command is defined once: name, typed arguments (a zod schema over the raw argument text), help text and the
 * role it needs. `invoke` resolves the caller (role, and whether they may use the bot at all) through the access
 * policy a module installs with `setAccess`, refuses politely what the role does not allow, and hands every
 * invocation of an admin or owner command, refused or not, to the audit log. Without an access policy everyone is
 * a plain user: admin commands fail closed.
 */
import type { z } from 'zod';
import type { CommandInvocation, CommandResult } from '../core/adapter.js';

export type Role = 'user' | 'admin' | 'owner';

const RANK: Record<Role, number> = { user: 0, admin: 1, owner: 2 };

/** Does `have` include everything `need` may do? (owner > admin > user) */
export function atLeast(have: Role, need: Role): boolean {
  return RANK[have] >= RANK[need];
}

export const ROLE_NAMES: Record<Role, string> = { user: 'everyone', admin: 'admins', owner: 'owners' };

/** A command's own "no": its message is the whole answer (bad argument, unknown user), audited as invalid. */
export class CommandError extends Error {
  override name = 'CommandError';
}

/** Who runs a command, as the access policy sees them. */
export interface Caller {
  /** `platform:tenant:userId`, the same key as `TurnContext.userKey` (usage, memory). */
  userKey: string;
  /** `platform:userId`: roles, bans and allows hold across tenants, like ADMIN_USERS does. */
  principal: string;
  role: Role;
  /** Set when the caller may not use the bot here at all (banned; not allowed by the DM policy): the polite answer. */
  blocked?: string;
}

export type AuditResult = 'ok' | 'refused' | 'invalid' | 'error';

export interface AuditEntry {
  at: Date;
  caller: Caller;
  invocation: CommandInvocation;
  /** The role these arguments needed. */
  required: Role;
  result: AuditResult;
  /** First line of the answer (what the caller was told), shortened. */
  detail: string;
}

export interface CommandAccess {
  caller(inv: CommandInvocation): Promise<Caller>;
  audit(entry: AuditEntry): Promise<void>;
}

export interface CommandDef<A = string> {
  name: string;
  description: string;
  /** Usage hint for arguments, e.g. "[on|off]". */
  usage?: string;
  /** Further forms only admins may use (shown to admins by `help`), e.g. "@user". */
  adminUsage?: string;
  /** The least role that may run (and see) this command. */
  role: Role;
  /** Parses `inv.args` (the raw text after the name). A failure answers with the usage; `run` is not called. */
  args?: z.ZodType<A, string>;
  /** The role these arguments need, when some forms need more than `role` (e.g. `reset @user` needs admin). */
  roleFor?(args: A, inv: CommandInvocation): Role;
  run(inv: CommandInvocation, args: A, caller: Caller): Promise<CommandResult> | CommandResult;
}

/** Keeps a command's argument type checked against its `run` while storing it next to others. */
export function defineCommand<A = string>(def: CommandDef<A>): CommandDef<any> {
  return def as CommandDef<any>;
}

/** Everyone is a plain user and nothing is audited: the policy until a module installs one. */
const NO_ACCESS: CommandAccess = {
  caller: async (inv) => ({
    userKey: `${inv.platform}:${inv.tenant}:${inv.user.id}`,
    principal: `${inv.platform}:${inv.user.id}`,
    role: 'user',
  }),
  audit: async () => undefined,
};

const reply = (text: string): CommandResult => ({ text, ephemeral: true });

export class CommandRegistry {
  private readonly defs = new Map<string, CommandDef<any>>();
  private access: CommandAccess = NO_ACCESS;

  constructor(defs: CommandDef<any>[] = []) {
    for (const d of [helpCommand(this), ...defs]) this.defs.set(d.name, d);
  }

  add(def: CommandDef<any>): void {
    this.defs.set(def.name, def);
  }

  /** Install the access policy (roles, bans, DM policy) and the audit log. */
  setAccess(access: CommandAccess): void {
    this.access = access;
  }

  list(): CommandDef<any>[] {
    return [...this.defs.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The commands this role may run. */
  visibleTo(role: Role): CommandDef<any>[] {
    return this.list().filter((d) => atLeast(role, d.role));
  }

  async invoke(inv: CommandInvocation): Promise<CommandResult> {
    const def = this.defs.get(inv.name.toLowerCase());
    if (!def) return reply(`Unknown command \`/${inv.name}\`. Try \`/help\`.`);
    let caller: Caller;
    try {
      caller = await this.access.caller(inv);
    } catch {
      // Fail closed: without knowing who this is, nothing runs.
      return reply('Sorry, I cannot check your access right now. Please try again in a moment.');
    }
    const parsed = def.args ? def.args.safeParse(inv.args) : { success: true as const, data: inv.args };
    const required = parsed.success && def.roleFor ? maxRole(def.role, def.roleFor(parsed.data, inv)) : def.role;
    const audited = required !== 'user';
    const finish = async (result: CommandResult, outcome: AuditResult): Promise<CommandResult> => {
      if (audited)
        await this.audit({
          at: new Date(),
          caller,
          invocation: inv,
          required,
          result: outcome,
          detail: firstLine(result.text),
        });
      return result;
    };

    if (caller.blocked) return finish(reply(caller.blocked), 'refused');
    if (!atLeast(caller.role, required)) {
      return finish(
        reply(
          `Sorry, \`/${def.name}${inv.args ? ' …' : ''}\` is only for ${ROLE_NAMES[required]}. Try \`/help\` for what you can use.`,
        ),
        'refused',
      );
    }
    if (!parsed.success) {
      const why = parsed.error.issues[0]?.message ?? 'invalid arguments';
      return finish(
        reply(`${why}\nUsage: \`/${def.name}${usageFor(def, caller.role) ? ` ${usageFor(def, caller.role)}` : ''}\``),
        'invalid',
      );
    }
    try {
      return await finish(await def.run(inv, parsed.data, caller), 'ok');
    } catch (err) {
      if (err instanceof CommandError) return finish(reply(err.message), 'invalid');
      return finish(reply(`Sorry, \`/${def.name}\` failed: ${(err as Error).message}`), 'error');
    }
  }

  private async audit(entry: AuditEntry): Promise<void> {
    // The answer still goes out when the audit store is down; the policy logs the failure.
    await this.access.audit(entry).catch(() => undefined);
  }
}

function maxRole(a: Role, b: Role): Role {
  return atLeast(a, b) ? a : b;
}

function firstLine(text: string): string {
  const line = text.split('\n', 1)[0] ?? '';
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

function usageFor(def: CommandDef<any>, role: Role): string {
  return [def.usage, atLeast(role, 'admin') ? def.adminUsage : undefined].filter(Boolean).join(' | ');
}

/** `help` lists only what the caller's role may run (admin forms of user commands only for admins). */
function helpCommand(registry: CommandRegistry): CommandDef<any> {
  return {
    name: 'help',
    description: 'List the commands you can use',
    role: 'user',
    run: (_inv, _args, caller: Caller) => ({
      ephemeral: true,
      text: [
        '**Commands**',
        ...registry.visibleTo(caller.role).map((d) => {
          const usage = usageFor(d, caller.role);
          return `- \`/${d.name}${usage ? ` ${usage}` : ''}\` — ${d.description}`;
        }),
      ].join('\n'),
    }),
  };
}

/** Split "/name@bot args" or "/name args" into its parts; null if the text is not a command. */
export function parseCommandText(text: string): { name: string; mention?: string; args: string } | null {
  const m = /^\/([A-Za-z0-9_-]{1,32})(?:@([A-Za-z0-9_]+))?(?:\s+([\s\S]*))?$/.exec(text.trim());
  return m ? { name: m[1]!.toLowerCase(), mention: m[2], args: (m[3] ?? '').trim() } : null;
}
