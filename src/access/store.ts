/**
 * The access module's reads and writes. Every write is one upsert keyed by primary key in its own transaction
 * (`withTx`, retried on 40001); reads are primary-key lookups except the admin listings.
 */
import { and, desc, eq, gte, lte, sql as dsql, type Placeholder, type SQL } from 'drizzle-orm';
import { randomUUID } from 'node:crypto';
import type { AuditEntry, Role } from '../commands/registry.js';
import { conversationKey } from '../core/types.js';
import { withTx, type Db } from '../db/client.js';
import { preparedQuery } from '../db/prepared.js';
import { accessAudit, accessUsage, accessUsernames, accessUsers } from './schema.js';

export type AccessUser = typeof accessUsers.$inferSelect;

const userByPrincipal = preparedQuery((db) =>
  db
    .select()
    .from(accessUsers)
    .where(eq(accessUsers.principal, dsql.placeholder('principal')))
    .prepare('access_user'),
);

export async function getUser(db: Db, principal: string): Promise<AccessUser | undefined> {
  const [row] = await userByPrincipal(db).execute({ principal });
  return row;
}

type UserChange = Partial<Pick<AccessUser, 'role' | 'allowed' | 'banned'>>;

/** Set some of role / allowed / banned for one person, creating their row if needed. */
export async function updateUser(
  db: Db,
  principal: string,
  change: UserChange,
  by: string,
  name?: string,
): Promise<void> {
  const now = new Date();
  await withTx(db, (tx) =>
    tx
      .insert(accessUsers)
      .values({ principal, ...change, updatedBy: by, updatedAt: now, ...(name ? { name } : {}) })
      .onConflictDoUpdate({
        target: accessUsers.principal,
        set: { ...change, updatedBy: by, updatedAt: now, ...(name ? { name } : {}) },
      }),
  );
}

export async function writeAudit(db: Db, e: AuditEntry): Promise<void> {
  const inv = e.invocation;
  await withTx(db, (tx) =>
    tx.insert(accessAudit).values({
      id: randomUUID(),
      at: e.at,
      actor: e.caller.principal,
      actorName: inv.user.name ?? null,
      role: e.caller.role,
      platform: inv.platform,
      conversationKey: conversationKey(inv.conversation),
      command: inv.name,
      args: inv.args.slice(0, 2000),
      required: e.required,
      result: e.result,
      detail: e.detail,
    }),
  );
}

export async function recentAudit(db: Db, limit: number) {
  return db.select().from(accessAudit).orderBy(desc(accessAudit.at)).limit(limit);
}

/** UTC calendar day, `YYYY-MM-DD`: usage and budgets count per UTC day. */
export function utcDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

export interface UsageTotals {
  inputTokens: number;
  outputTokens: number;
  turns: number;
}

const ZERO: UsageTotals = { inputTokens: 0, outputTokens: 0, turns: 0 };

const usageOfDay = preparedQuery((db) =>
  db
    .select({ inputTokens: accessUsage.inputTokens, outputTokens: accessUsage.outputTokens, turns: accessUsage.turns })
    .from(accessUsage)
    .where(and(eq(accessUsage.userKey, dsql.placeholder('userKey')), eq(accessUsage.day, dsql.placeholder('day'))))
    .prepare('usage_of_day'),
);

/** One user's tokens on one day (a primary-key read: the budget check on every turn). */
export async function usageOn(db: Db, userKey: string, day: string): Promise<UsageTotals> {
  const [row] = await usageOfDay(db).execute({ userKey, day });
  return row
    ? { inputTokens: Number(row.inputTokens), outputTokens: Number(row.outputTokens), turns: Number(row.turns) }
    : ZERO;
}

/** One user's tokens over a range of days (inclusive). */
export async function usageBetween(db: Db, userKey: string, from: string, to: string): Promise<UsageTotals> {
  const [row] = await db
    .select({
      inputTokens: dsql<string>`coalesce(sum(${accessUsage.inputTokens}), 0)`,
      outputTokens: dsql<string>`coalesce(sum(${accessUsage.outputTokens}), 0)`,
      turns: dsql<string>`coalesce(sum(${accessUsage.turns}), 0)`,
    })
    .from(accessUsage)
    .where(and(eq(accessUsage.userKey, userKey), gte(accessUsage.day, from), lte(accessUsage.day, to)));
  return row
    ? { inputTokens: Number(row.inputTokens), outputTokens: Number(row.outputTokens), turns: Number(row.turns) }
    : ZERO;
}

/** The heaviest users of one day. */
export async function topUsage(db: Db, day: string, limit: number) {
  const rows = await db
    .select()
    .from(accessUsage)
    .where(eq(accessUsage.day, day))
    .orderBy(desc(dsql`${accessUsage.inputTokens} + ${accessUsage.outputTokens}`))
    .limit(limit);
  return rows.map((r) => ({
    userKey: r.userKey,
    inputTokens: Number(r.inputTokens),
    outputTokens: Number(r.outputTokens),
    turns: Number(r.turns),
  }));
}

export async function rememberUsername(db: Db, platform: string, username: string, userId: string): Promise<void> {
  const now = new Date();
  await withTx(db, (tx) =>
    tx
      .insert(accessUsernames)
      .values({ platform, username: username.toLowerCase(), userId, updatedAt: now })
      .onConflictDoUpdate({
        target: [accessUsernames.platform, accessUsernames.username],
        set: { userId, updatedAt: now },
      }),
  );
}

export async function userIdForUsername(db: Db, platform: string, username: string): Promise<string | undefined> {
  const [row] = await db
    .select({ userId: accessUsernames.userId })
    .from(accessUsernames)
    .where(and(eq(accessUsernames.platform, platform), eq(accessUsernames.username, username.toLowerCase())));
  return row?.userId;
}

export function isRole(v: string | null | undefined): v is Role {
  return v === 'user' || v === 'admin' || v === 'owner';
}

/**
 * The turn's read (TurnHooks.read): the batch's senders' rows by principal and, when budgets are on, their tokens
 * today by user key, as `{users: {principal: {role, allowed, banned}}, usage: {userKey: tokens} | null}`.
 */
export function accessTurnRead(budgets: boolean) {
  return (p: (param: string) => Placeholder): SQL => dsql`select json_build_object(
    'users', (select coalesce(json_object_agg(u.principal,
        json_build_object('role', u.role, 'allowed', u.allowed, 'banned', u.banned)), '{}'::json)
      from access_users u where u.principal = any(${p('principals')}::text[])),
    'usage', ${
      budgets
        ? dsql`(select coalesce(json_object_agg(x.user_key, x.input_tokens + x.output_tokens), '{}'::json)
      from access_usage x where x.user_key = any(${p('userKeys')}::text[]) and x.day = ${p('day')}::date)`
        : dsql`null`
    })`;
}

export interface AccessTurnData {
  users: Record<string, Pick<AccessUser, 'role' | 'allowed' | 'banned'>>;
  usage: Record<string, number> | null;
}

/**
 * recordUsage for several people at once, as one statement for the turn's own commit (TurnHooks.commitWrites).
 * Plain SQL, not drizzle's insert builder: it runs on every turn, and building this upsert and the agents module's
 * (addAgentTokensSql) through the builder cost ~300 µs of the worker's CPU per turn, where plain SQL costs ~25. The rows are one JSON parameter, so the
 * statement's text is the same for any number of people (the commit is prepared by its text).
 */
export function addUsageSql(day: string, rows: { userKey: string; inputTokens: number; outputTokens: number }[]): SQL {
  const json = JSON.stringify(rows.map((r) => [r.userKey, r.inputTokens, r.outputTokens]));
  return dsql`insert into "access_usage" ("user_key", "day", "input_tokens", "output_tokens", "turns")
    select r->>0, ${day}::date, (r->>1)::bigint, (r->>2)::bigint, 1 from jsonb_array_elements(${json}::jsonb) r
    on conflict ("user_key", "day") do update set "input_tokens" = "access_usage"."input_tokens" + excluded."input_tokens",
      "output_tokens" = "access_usage"."output_tokens" + excluded."output_tokens",
      "turns" = "access_usage"."turns" + 1, "updated_at" = now()`;
}
