/** Running the bot: status, sessions, pause / resume, broadcast, schedule, audit. */
import { DateTime } from 'luxon';
import { CommandError, defineCommand } from '../../commands/registry.js';
import type { Inbox } from '../../queue/inbox.js';
import { broadcast } from '../broadcast.js';
import { recentConversations } from '../conversations.js';
import { currentPause, endPause, startPause } from '../pause.js';
import type { ScheduleWhen } from '../ports.js';
import { statusText } from '../status.js';
import { recentAudit } from '../store.js';
import { count, fail, grammar, none, text } from './args.js';
import { say, type CommandDeps } from './deps.js';

const stamp = (d: Date | null | undefined) => (d ? `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC` : '—');

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `daily 09:00` | `every 2h` | `cron 0 9 * * 1` | anything else: a one-off time ("tomorrow at 9", ISO). */
export function parseScheduleWhen(words: string[]): ScheduleWhen {
  const [head, ...rest] = words;
  const kw = head?.toLowerCase();
  if (kw === 'daily') {
    const m = rest.length === 1 ? /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(rest[0]!) : null;
    if (!m) fail('Use `daily HH:MM`.');
    return { time: `${m[1]!.padStart(2, '0')}:${m[2]}` };
  }
  if (kw === 'every') {
    const m = rest.length === 1 ? /^(\d+)([smhd])$/.exec(rest[0]!) : null;
    if (!m) fail('Use `every <n><s|m|h|d>`, e.g. `every 12h`.');
    return { everyMs: Number(m[1]) * UNIT_MS[m[2]!]! };
  }
  if (kw === 'cron') {
    if (rest.length < 5 || rest.length > 6) fail('Use `cron <5 fields>`, e.g. `cron 0 9 * * 1`.');
    return { pattern: rest.join(' ') };
  }
  if (!words.length) fail('Say when.');
  return { at: words.join(' ') };
}

type ScheduleArgs =
  | { op: 'list' }
  | { op: 'remove'; id: string }
  | { op: 'add'; here: boolean; when: ScheduleWhen; text: string };

export function operationCommands(d: CommandDeps & { inbox: Inbox }) {
  const status = defineCommand({
    name: 'status',
    description: 'Version, uptime, queues, workers and channels',
    role: 'admin',
    args: none,
    async run() {
      return say(
        await statusText({
          version: d.version,
          queues: d.queues,
          adapters: d.adapters,
          pause: await currentPause(d.redis, d.keys),
          uptimeMs: Date.now() - d.startedAt,
        }),
      );
    },
  });

  const sessions = defineCommand({
    name: 'sessions',
    description: 'The most recently active conversations',
    usage: '[count]',
    role: 'admin',
    args: count(10, 50),
    async run(_inv, n) {
      const rows = await recentConversations(d.db, n);
      if (!rows.length) return say('No conversations yet.');
      return say(
        [
          `**Recent conversations** (${rows.length})`,
          ...rows.map(
            (r) =>
              `- \`${r.key}\` — ${Number(r.version)} turns, ${Number(r.items)} items in the session, last message ${stamp(r.lastMessageAt)}`,
          ),
        ].join('\n'),
      );
    },
  });

  const pause = defineCommand({
    name: 'pause',
    description: 'Maintenance: hold all messages (users get one notice) until /resume',
    role: 'admin',
    args: none,
    async run(_inv, _a, caller) {
      const { state, already } = await startPause(d.redis, d.keys, caller.principal);
      if (already) return say(`Already paused since ${state.at} by \`${state.by}\`.`);
      return say('Paused. Messages wait unanswered (each conversation gets one notice); `/resume` answers them.');
    },
  });

  const resume = defineCommand({
    name: 'resume',
    description: 'End maintenance: answer the held messages',
    role: 'admin',
    args: none,
    async run() {
      const was = await endPause(d.redis, d.keys, d.queues);
      let waiting = 0;
      for await (const _ of d.inbox.conversations()) waiting++;
      if (!was) return say('I was not paused.');
      return say(
        `Resumed. ${waiting} conversation${waiting === 1 ? '' : 's'} with waiting messages ${waiting === 1 ? 'is' : 'are'} being answered.`,
      );
    },
  });

  const bcast = defineCommand({
    name: 'broadcast',
    description: 'Send a message to every direct conversation',
    usage: '<text>',
    role: 'admin',
    args: text('message to send'),
    async run(inv, message) {
      // The invocation id makes a redelivered command a no-op (the outbox rows' turn ids derive from it).
      const r = await broadcast(
        { db: d.db, queues: d.queues, adapters: d.adapters, perSecond: d.config.BROADCAST_PER_SECOND },
        inv.id,
        message,
      );
      return say(
        `Broadcast queued to ${r.queued} conversation${r.queued === 1 ? '' : 's'}${r.skipped ? ` (${r.skipped} skipped: banned, no channel, or already sent)` : ''}${r.spreadMs > 1000 ? `; sending over ${Math.ceil(r.spreadMs / 1000)} s` : ''}.`,
      );
    },
  });

  const schedule = defineCommand<ScheduleArgs>({
    name: 'schedule',
    description: 'Scheduled messages: list, add, remove',
    usage: 'list | add [here] <when> | <text> | remove <id>',
    role: 'admin',
    args: grammar((w, raw): ScheduleArgs => {
      const op = w[0]?.toLowerCase();
      if (!op || op === 'list') return { op: 'list' };
      if (['remove', 'rm', 'delete'].includes(op)) {
        if (w.length !== 2) fail('Use `/schedule remove <id>`.');
        return { op: 'remove', id: w[1]! };
      }
      if (op !== 'add') fail('Use `/schedule list`, `/schedule add <when> | <text>` or `/schedule remove <id>`.');
      const bar = raw.indexOf('|');
      if (bar < 0) fail('Separate when and the text with `|`: `/schedule add tomorrow at 9 | Standup in 10 minutes`.');
      const whenWords = raw.slice(0, bar).trim().split(/\s+/).slice(1);
      const here = whenWords[0]?.toLowerCase() === 'here';
      const message = raw.slice(bar + 1).trim();
      if (!message) fail('The message after `|` is empty.');
      return { op: 'add', here, when: parseScheduleWhen(here ? whenWords.slice(1) : whenWords), text: message };
    }),
    async run(inv, a) {
      const port = d.ports.schedule;
      if (!port) throw new CommandError('Scheduled messages are not available on this gateway.');
      if (a.op === 'remove')
        return say((await port.remove(a.id)) ? `Removed \`${a.id}\`.` : `No scheduled message \`${a.id}\`.`);
      if (a.op === 'add') {
        let m;
        try {
          // createdBy is the platform user id: the scheduler sends a conversation's message as from its creator.
          m = await port.add({
            text: a.text,
            when: a.when,
            to: a.here ? { ref: inv.conversation } : 'optins',
            createdBy: inv.user.id,
          });
        } catch (err) {
          throw new CommandError(`Could not schedule that: ${(err as Error).message}.`);
        }
        return say(`Scheduled \`${m.id}\` to ${m.target}: ${m.when}${m.nextAt ? ` (next ${stamp(m.nextAt)})` : ''}.`);
      }
      const all = await port.list();
      if (!all.length) return say('No scheduled messages.');
      return say(
        [
          `**Scheduled messages** (${all.length})`,
          ...all.map(
            (m) =>
              `- \`${m.id}\` to ${m.target}, ${m.when}${m.nextAt ? ` (next ${stamp(m.nextAt)})` : ''}: ${m.text.length > 80 ? `${m.text.slice(0, 79)}…` : m.text}`,
          ),
        ].join('\n'),
      );
    },
  });

  const audit = defineCommand({
    name: 'audit',
    description: 'Recent admin actions',
    usage: '[count]',
    role: 'admin',
    args: count(15, 100),
    async run(_inv, n) {
      const rows = await recentAudit(d.db, n);
      if (!rows.length) return say('No admin actions yet.');
      return say(
        [
          `**Audit log** (latest ${rows.length})`,
          ...rows.map(
            (r) =>
              `- ${DateTime.fromJSDate(r.at, { zone: 'utc' }).toFormat('yyyy-LL-dd HH:mm:ss')} \`${r.actor}\`${r.actorName ? ` (${r.actorName})` : ''} \`/${r.command}${r.args ? ` ${r.args.length > 60 ? `${r.args.slice(0, 59)}…` : r.args}` : ''}\` → **${r.result}**${r.result !== 'ok' ? `: ${r.detail}` : ''}`,
          ),
        ].join('\n'),
      );
    },
  });

  return [status, sessions, pause, resume, bcast, schedule, audit];
}
