/**
 * Adapters from the memory and scheduler modules' exports to the ports the commands use (ports.ts), so the
 * commands stay written against our own small interfaces.
 * - scheduler (src/scheduler/index.ts): setCheckin / getCheckin / disableCheckin, scheduleMessage /
 *   listScheduledMessages / removeScheduledMessage.
 * - memory (src/memory/index.ts): listMemories / forgetMemory / shareMemory. With MEMORY_ENABLED off the memory
 *   service is null, the port stays absent and `/memory`, `/forget` answer that memory is not available.
 * Both are the services the access module requires (src/access/index.ts), passed in when the app is composed.
 */
import type { MemoryApi } from '../memory/index.js';
import {
  describeCadence,
  disableCheckin,
  getCheckin,
  listScheduledMessages,
  removeScheduledMessage,
  scheduleMessage,
  setCheckin,
  type Checkin,
  type ScheduledMessage,
  type SchedulerCtx,
} from '../scheduler/index.js';
import type { CheckinPort, CheckinView, MemoryPort, SchedulePort, ScheduledView } from './ports.js';

export function memoryPort(memory: MemoryApi | null): MemoryPort | undefined {
  if (!memory) return undefined;
  return {
    // Facts only: conversation summaries are the bot's notes on a session, not "what it remembers about me".
    list: async (userKey, visibleIn) =>
      (await memory.listMemories(userKey, undefined, { visibleIn }))
        .filter((m) => m.kind === 'fact')
        .map((m) => ({ id: m.id, text: m.text, updatedAt: m.createdAt })),
    forget: (userKey, id) => memory.forgetMemory(userKey, id),
    share: (userKey, id, shared) => memory.shareMemory(userKey, id, shared),
  };
}

function checkinView(c: Checkin): CheckinView {
  const daily = c.cadence.pattern ? /^(\d{1,2}) (\d{1,2}) \* \* \*$/.exec(c.cadence.pattern) : null;
  return {
    enabled: c.enabled,
    time: daily ? `${daily[2]!.padStart(2, '0')}:${daily[1]!.padStart(2, '0')}` : undefined,
    cadence: describeCadence(c.cadence, c.timezone),
    timezone: c.timezone,
    nextAt: c.nextAt,
    disabledReason: c.disabledReason,
    announcements: c.announcements,
  };
}

function scheduledView(m: ScheduledMessage): ScheduledView {
  const cadence = m.pattern ? { pattern: m.pattern } : m.everyMs ? { everyMs: m.everyMs } : null;
  return {
    id: m.id,
    text: m.text,
    target: m.target === 'optins' ? 'everyone opted in to announcements' : `\`${m.conversationKey}\``,
    when: cadence
      ? describeCadence(cadence, m.timezone)
      : `once at ${m.runAt?.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    nextAt: m.state === 'scheduled' ? m.nextAt : null,
  };
}

export function schedulerPorts(scheduler: SchedulerCtx): { checkins: CheckinPort; schedule: SchedulePort } {
  return {
    checkins: {
      async get(ref) {
        const c = await getCheckin(scheduler, ref);
        return c ? checkinView(c) : null;
      },
      async set(ref, ownerId, change) {
        // Setting only the timezone (or the announcements opt-in) must not switch a check-in on.
        const exists = (await getCheckin(scheduler, ref)) !== null;
        const enabled = change.enabled ?? (exists ? undefined : false);
        return checkinView(await setCheckin(scheduler, { ref, ownerId, ...change, enabled }));
      },
      disable: (ref) => disableCheckin(scheduler, ref, 'user'),
    },
    schedule: {
      list: async () => (await listScheduledMessages(scheduler)).map(scheduledView),
      add: async (a) =>
        scheduledView(await scheduleMessage(scheduler, { text: a.text, to: a.to, createdBy: a.createdBy, ...a.when })),
      remove: (id) => removeScheduledMessage(scheduler, id),
    },
  };
}
