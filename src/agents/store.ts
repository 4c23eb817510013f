/** Per-conversation agent choices and per-agent usage. Single statements: each is its own retried transaction. */
import { and, eq, sql as dsql } from 'drizzle-orm';
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

/** Write-only upsert (no read first), like the per-user usage in src/access. */
export async function addAgentTokens(
  db: Db,
  agent: string,
  userKey: string,
  day: string,
  tokens: number,
): Promise<void> {
  if (tokens <= 0) return;
  await retrySerializable(() =>
    db
      .insert(agentUsage)
      .values({ agent, userKey, day, tokens })
      .onConflictDoUpdate({
        target: [agentUsage.agent, agentUsage.userKey, agentUsage.day],
        set: { tokens: dsql`${agentUsage.tokens} + ${tokens}`, updatedAt: dsql`now()` },
      }),
  );
}
