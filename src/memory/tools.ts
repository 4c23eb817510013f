/**
 * The agent's memory tools. Every one acts for `rc.context.userKey`, the person the turn is for: no tool takes a
 * user key as an argument, so a prompt can never make the agent read or change someone else's memories.
 */
import { tool, type RunContext, type Tool } from '@openai/agents';
import { z } from 'zod';
import type { TurnContext } from '../core/module.js';
import { visibleIn } from './recall.js';
import type { MemoryService } from './service.js';

function userOf(rc: RunContext<TurnContext> | undefined): string {
  const key = rc?.context?.userKey;
  if (!key) throw new Error('memory tools need a turn context');
  return key;
}

/** A group turn's answers are seen by the whole group: the tools only see what was learned there, or shared. */
function scopeOf(rc: RunContext<TurnContext>): { visibleIn?: string } {
  return { visibleIn: visibleIn(rc.context.ref, rc.context.conversationKey) };
}

export function memoryTools(memory: MemoryService): Tool<TurnContext>[] {
  const remember = tool({
    name: 'remember',
    description:
      'Save a durable fact about the user for future conversations (e.g. "The user\'s favourite colour is green."). A newer value of the same thing replaces the old one.',
    parameters: z.object({
      fact: z.string().min(1).max(500).describe('The fact, self-contained, in the third person.'),
      shareable: z
        .boolean()
        .nullish()
        .describe(
          'True only when the user explicitly says this may be used in group chats too. Otherwise it is recalled only where it was said.',
        ),
    }),
    execute: async ({ fact, shareable }, rc) => {
      const ctx = (rc as RunContext<TurnContext>).context;
      return memory.remember(userOf(rc as RunContext<TurnContext>), fact, {
        scope: ctx.conversationKey,
        shared: shareable === true,
      });
    },
  });
  const recall = tool({
    name: 'recall',
    description: 'Search what you remember about the user. Returns matching memories with their ids and dates.',
    parameters: z.object({ query: z.string().max(500).describe('What to look for.') }),
    execute: async ({ query }, rc) => {
      const ctx = (rc as RunContext<TurnContext>).context;
      return memory.recallText(
        userOf(rc as RunContext<TurnContext>),
        query,
        ctx.now,
        scopeOf(rc as RunContext<TurnContext>),
      );
    },
  });
  const forget = tool({
    name: 'forget',
    description:
      'Forget a memory about the user: pass its id (from recall) or a description of it, or "all" to forget everything.',
    parameters: z.object({ memory: z.string().min(1).max(500) }),
    // Forgetting everything cannot be undone: the run stops until the person approves it (src/approvals).
    needsApproval: async (_rc, args) => args.memory.trim().toLowerCase() === 'all',
    execute: async (args, rc) =>
      memory.forgetText(userOf(rc as RunContext<TurnContext>), args.memory, scopeOf(rc as RunContext<TurnContext>)),
  });
  return [remember, recall, forget] as Tool<TurnContext>[];
}
