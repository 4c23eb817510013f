/** Per-conversation agent choices and per-agent usage. Single statements: each is its own retried transaction. */
import { and, eq, sql as dsql, type Placeholder, type SQL } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { retrySerializable } from '../db/retry.js';
import { agentUsage, conversationAgents } from './schema.js';

export async function chosenAgent(db: Db, conversationKey: string): Promise<string | null> {
  const [row] = await retrySerializable(() =>
    db
      .select({ agent: conversationAgents.agent })
      .from(conversationAgents)
      .where(eq(conversationAgents.conversationKey, conversationKey)),
  );
  return row?.agent ?? null;
}

export async function chooseAgent(db: Db, conversationKey: string, agent: string, setBy: string): Promise<void> {
  await retrySerializable(() =>
    db
      .insert(conversationAgents)
      .values({ conversationKey, agent, setBy })
      .onConflictDoUpdate({ target: conversationAgents.conversationKey, set: { agent, setBy, setAt: dsql`now()` } }),
  );
}

export async function clearChosenAgent(db: Db, conversationKey: string): Promise<void> {
  await retrySerializable(() =>
    db.delete(conversationAgents).where(eq(conversationAgents.conversationKey, conversationKey)),
  );
}

export async function agentTokensOn(db: Db, agent: string, userKey: string, day: string): Promise<number> {
  const [row] = await retrySerializable(() =>
    db
      .select({ tokens: agentUsage.tokens })
      .from(agentUsage)
      .where(and(eq(agentUsage.agent, agent), eq(agentUsage.userKey, userKey), eq(agentUsage.day, day))),
  );
  return Number(row?.tokens ?? 0);
}

/**
 * The turn's read (TurnHooks.read): the conversation's chosen agent and the batch's people's tokens per agent
 * today, as `{chosen, usage: [[agent, userKey, tokens], ...]}`.
 */
export function agentTurnRead(p: (param: string) => Placeholder): SQL {
  return dsql`select json_build_object(
    'chosen', (select ca.agent from conversation_agents ca where ca.conversation_key = ${p('key')}),
    'usage', (select coalesce(json_agg(json_build_array(au.agent, au.user_key, au.tokens)), '[]'::json)
      from agent_usage au where au.user_key = any(${p('userKeys')}::text[]) and au.day = ${p('day')}::date))`;
}

export interface AgentTurnData {
  chosen: string | null;
  usage: [string, string, number][];
}

/**
 * Adds a turn's tokens: a write-only upsert (no read first), run in the turn's own commit (TurnHooks.commitWrites).
 * Plain SQL for the reason given at addUsageSql (src/access/store.ts): it runs on every turn.
 */
export function addAgentTokensSql(agent: string, userKey: string, day: string, tokens: number): SQL {
  return dsql`insert into "agent_usage" ("agent", "user_key", "day", "tokens")
    values (${agent}::text, ${userKey}::text, ${day}::date, ${tokens}::bigint)
    on conflict ("agent", "user_key", "day") do update set "tokens" = "agent_usage"."tokens" + excluded."tokens",
      "updated_at" = now()`;
}
