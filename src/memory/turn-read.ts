/**
 * The memory module's part of the turn's one read (TurnRead, src/worker/commit.ts): which of the batch's people
 * have any current memory. Recall for someone with none is skipped: no search statement, no summary list, no
 * embeddings request, for every turn of a new user. Only for the embedded store: with Qdrant the memories live
 * there, and recall always asks it.
 */
import { sql as dsql } from 'drizzle-orm';
import type { TurnContext, TurnRead } from '../core/module.js';

const userKeysOf = (events: TurnContext['events']) => [
  ...new Set(events.map((e) => `${e.platform}:${e.tenant}:${e.sender.id}`)),
];

export const memoryTurnRead: TurnRead = {
  name: 'memory',
  // unnest + exists: one probe of the partial index per person (CockroachDB-compatible, no DISTINCT aggregate).
  sql: (p) => dsql`select coalesce(json_agg(u.k), '[]'::json) from unnest(${p('userKeys')}::text[]) as u(k)
    where exists (select 1 from memories m where m.user_key = u.k and m.superseded_at is null)`,
  params: ({ events }) => ({ userKeys: userKeysOf(events) }),
};

/** True when the turn's read shows `ctx.userKey` has no memories at all (false when it was not read). */
export function knownToHaveNoMemories(ctx: TurnContext): boolean {
  const withMemories = ctx.reads?.memory;
  if (!Array.isArray(withMemories) || !userKeysOf(ctx.events).includes(ctx.userKey)) return false;
  return !withMemories.includes(ctx.userKey);
}
