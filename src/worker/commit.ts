/**
 * Commits one turn in a single serializable statement (retried on 40001): the consumed inbound ids, the new
 * session items, the turn record, the reply (outbox) and the modules' usage. Fenced by the conversation's `version`, so a stale worker
 * can never commit over a newer turn, and by the inbound ids' primary key, so no message is answered twice.
 */
import type { AgentInputItem } from '@openai/agents';
import { eq, sql as dsql, type SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { Sql } from 'postgres';
import { randomUUID } from 'node:crypto';
import type { TurnRead } from '../core/module.js';
import type { ConversationRef, InboundEvent } from '../core/types.js';
import { withTx, type Db, type Tx } from '../db/client.js';
import { retrySerializable } from '../db/retry.js';
import { preparedQuery } from '../db/prepared.js';
import { conversations, turns } from '../db/schema.js';

export class StaleTurnError extends Error {
  override name = 'StaleTurnError';
}

export interface ConversationState {
  sessionId: string;
  version: number;
}

/** The conversation's current session and version; a new conversation gets a fresh session at version 0. */
const conversationState = preparedQuery((db) =>
  db
    .select({ sessionId: conversations.sessionId, version: conversations.version })
    .from(conversations)
    .where(eq(conversations.key, dsql.placeholder('key')))
    .prepare('conversation_state'),
);

export async function loadConversation(db: Db, key: string): Promise<ConversationState> {
  const [row] = await conversationState(db).execute({ key });
  return row ?? { sessionId: randomUUID(), version: 0 };
}

/*
 * Everything a turn reads before its hooks run, in one statement: the state, the session's recent items, which
 * of the batch's events a committed turn already consumed (a crash after commit), whether a run waits for an
 * approval, and each module's own read (TurnRead: access standing, routed agent, budgets). Always one row: the
 * dummy row on the left keeps the consumed ids for a conversation that has no row yet. Built once per worker (the
 * modules' reads are fixed at composition) and prepared.
 */
function buildTurnInputs(db: Db, reads: readonly TurnRead[]) {
  const extra = Object.fromEntries(
    reads.map((r) => [`read:${r.name}`, dsql<unknown>`(${r.sql((param) => dsql.placeholder(`${r.name}.${param}`))})`]),
  );
  return db
    .select({
      sessionId: conversations.sessionId,
      version: conversations.version,
      history: dsql<unknown[] | null>`case when ${conversations.key} is null then null else (
        select coalesce(json_agg(r.item order by r.position), '[]'::json) from (
        select si.item, si.position from session_items si where si.session_id = ${conversations.sessionId}
        order by si.position desc limit ${dsql.placeholder('n')}) r) end`,
      // `= any(array)`: one statement shape for any number of ids, so it can be prepared (an IN list cannot).
      consumed: dsql<[string, string][]>`(select coalesce(json_agg(json_build_array(im.event_id, im.turn_id)),
        '[]'::json) from inbound_messages im where im.event_id = any(${dsql.placeholder('eventIds')}::text[]))`,
      approvalPending: dsql<boolean>`exists (select 1 from approvals a
        where a.conversation_key = ${dsql.placeholder('key')} and a.status = 'pending')`,
      ...extra,
    })
    .from(dsql`(select 1) as one`)
    .leftJoin(conversations, eq(conversations.key, dsql.placeholder('key')))
    .prepare('turn_inputs');
}

const turnInputsCache = new WeakMap<Db, WeakMap<readonly TurnRead[], ReturnType<typeof buildTurnInputs>>>();
const NO_READS: readonly TurnRead[] = [];

function turnInputs(db: Db, reads: readonly TurnRead[]) {
  let byReads = turnInputsCache.get(db);
  if (!byReads) turnInputsCache.set(db, (byReads = new WeakMap()));
  let q = byReads.get(reads);
  if (!q) byReads.set(reads, (q = buildTurnInputs(db, reads)));
  return q;
}

export interface TurnInputs {
  state: ConversationState;
  history: AgentInputItem[];
  /** Events of the batch a committed turn already consumed, with that turn's id. */
  consumed: Map<string, string>;
  /** A run of this conversation waits for an approval (src/worker/approval-turn.ts reads it then). */
  approvalPending: boolean;
  /** Each module read's value, by its name (TurnContext.reads). */
  reads: Record<string, unknown>;
}

/**
 * The turn's reads in one round trip; a new conversation gets a fresh session at version 0, no history. `reads`
 * must be the same array on every call (the statement is built once for it).
 */
export async function loadTurnInputs(
  db: Db,
  key: string,
  events: InboundEvent[],
  maxItems: number,
  reads: readonly TurnRead[] = NO_READS,
  now = new Date(),
): Promise<TurnInputs> {
  const params: Record<string, unknown> = { key, n: maxItems, eventIds: events.map((e) => e.id) };
  for (const r of reads)
    for (const [k, v] of Object.entries(r.params({ conversationKey: key, events, now }))) params[`${r.name}.${k}`] = v;
  const [row] = (await turnInputs(db, reads).execute(params)) as Record<string, unknown>[];
  const consumed = new Map((row?.consumed as [string, string][] | undefined) ?? []);
  const approvalPending = row?.approvalPending === true;
  const values = Object.fromEntries(reads.map((r) => [r.name, row?.[`read:${r.name}`] ?? null]));
  if (!row?.sessionId)
    return { state: { sessionId: randomUUID(), version: 0 }, history: [], consumed, approvalPending, reads: values };
  const history = (row.history ?? []) as AgentInputItem[];
  const state = { sessionId: row.sessionId as string, version: Number(row.version ?? 0) };
  return { state, history, consumed, approvalPending, reads: values };
}

/** Whether a turn with this id was committed (a deterministic id's second commit is refused by the primary key). */
export async function turnExists(db: Db, turnId: string): Promise<boolean> {
  const rows = await db.select({ id: turns.id }).from(turns).where(eq(turns.id, turnId)).limit(1);
  return rows.length > 0;
}

export interface TurnRecord {
  turnId: string;
  conversationKey: string;
  ref: ConversationRef;
  state: ConversationState;
  events: InboundEvent[];
  /**
   * The events this turn answers without consuming them (a dead-letter notice answers the message set aside), in
   * place of `events`' ids: the outbox finalises a preview that message's failed attempts left with the reply.
   */
  answers?: string[];
  items: AgentInputItem[];
  /** Per item, whose message it is (`platform:tenant:userId`) or null: memory attributes group lines by it. */
  itemSenders?: (string | null)[];
  /** Per item, the agent that produced it (null: input, or not known). */
  itemAgents?: (string | null)[];
  /** null: nothing to send (the agent chose silence). */
  reply: string | null;
  /** The reply is an approval prompt (sent with buttons), or replaces one (src/approvals). */
  approvalId?: string;
  replacesApproval?: string;
  /** More writes in the same transaction (approval rows); a rejection rolls the turn back (StaleTurnError). */
  extraWrites?: (tx: Tx) => Promise<unknown>[];
  /** The modules' statements for this turn (TurnHooks.commitWrites: usage), CTEs of the commit's statement. */
  hookWrites?: SQL[];
  replyTo?: string;
  /** replied | silent | apology, or a module's own outcome (refused, budget, ...). */
  outcome: string;
  inputTokens: number;
  outputTokens: number;
  model: string;
  durationMs: number;
}

/** Wait for every promise (none left unhandled), then throw the first failure in the order they were sent. */
async function settleInOrder(ps: Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(ps);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** Unique violation: another turn already committed these messages or this conversation's first turn. */
function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; cause?: { code?: string } };
  return (e?.code ?? e?.cause?.code) === '23505';
}

/** Builds statement text only (no connection): the commit's SQL, composed below, becomes text and parameters. */
const dialect = new PgDialect();

/**
 * The commit as one statement of data-modifying CTEs: no BEGIN/COMMIT round trips, and its text depends only on
 * which parts a turn has (never on values or row counts), so postgres.js prepares it once per connection and the
 * database plans it once. The fence (the version bump, or a new conversation's row) returns the session's new item
 * count, which the new items' positions come from, and every insert is fed from its row. A fence that did not hold
 * makes the final select divide by zero, aborting the whole statement, so nothing (not the modules' usage either)
 * is written for a stale turn: plain SQL has no RAISE, and CockroachDB has no DO blocks.
 */
function commitStatement(t: TurnRecord, last: InboundEvent | undefined): SQL {
  const seq = t.state.version + 1;
  const n = t.items.length;
  const key = t.conversationKey;
  const sessionId = t.state.sessionId;
  const ref = JSON.stringify(t.ref); // drizzle hands jsonb parameters to postgres.js as JSON text
  const lastAt = last ? new Date(last.receivedAt).toISOString() : null;
  const lastUser = last?.sender.id ?? null;
  const fence =
    t.state.version === 0
      ? dsql`insert into conversations
          (key, platform, tenant, ref, session_id, version, item_count, last_user_id, last_message_at)
          values (${key}, ${t.ref.platform}, ${t.ref.tenant}, ${ref}::jsonb, ${sessionId}::uuid, ${seq}, ${n},
            ${lastUser}, ${lastAt}::timestamptz)
          returning item_count`
      : dsql`update conversations set version = ${seq}, item_count = item_count + ${n}, ref = ${ref}::jsonb,
          last_user_id = coalesce(${lastUser}::text, last_user_id),
          last_message_at = coalesce(${lastAt}::timestamptz, last_message_at), updated_at = now()
          where key = ${key} and version = ${t.state.version} and session_id = ${sessionId}::uuid
          returning item_count`;
  const parts: SQL[] = [dsql`fence as (${fence})`];
  if (t.events.length) {
    const rows = t.events.map((e) => [e.id, e.sender.id, new Date(e.receivedAt).toISOString()]);
    parts.push(dsql`inbound as (insert into inbound_messages (event_id, conversation_key, turn_id, sender_id, received_at)
      select e->>0, ${key}::text, ${t.turnId}::uuid, e->>1, (e->>2)::timestamptz
      from fence, jsonb_array_elements(${JSON.stringify(rows)}::jsonb) e)`);
  }
  if (n) {
    const rows = t.items.map((item, i) => [item, t.itemSenders?.[i] ?? null, t.itemAgents?.[i] ?? null]);
    parts.push(dsql`items as (insert into session_items (session_id, position, turn_id, sender_key, agent, item)
      select ${sessionId}::uuid, fence.item_count - ${n}::bigint + i.ord - 1, ${t.turnId}::uuid, i.e->>1, i.e->>2, i.e->0
      from fence, jsonb_array_elements(${JSON.stringify(rows)}::jsonb) with ordinality as i(e, ord))`);
  }
  const eventIds = JSON.stringify(t.answers ?? t.events.map((e) => e.id));
  parts.push(dsql`turn as (insert into turns
    (id, conversation_key, session_id, seq, outcome, event_ids, input_tokens, output_tokens, model, duration_ms)
    select ${t.turnId}::uuid, ${key}::text, ${sessionId}::uuid, ${seq}::bigint, ${t.outcome}::text, ${eventIds}::jsonb,
      ${t.inputTokens}::int, ${t.outputTokens}::int, ${t.model}::text, ${t.durationMs}::int from fence)`);
  if (t.reply !== null) {
    parts.push(dsql`reply as (insert into outbox
      (turn_id, conversation_key, seq, ref, markdown, reply_to, approval_id, replaces_approval)
      select ${t.turnId}::uuid, ${key}::text, ${seq}::bigint, ${ref}::jsonb, ${t.reply}::text, ${t.replyTo ?? null}::text,
        ${t.approvalId ?? null}::text, ${t.replacesApproval ?? null}::text from fence)`);
  }
  for (const [i, w] of (t.hookWrites ?? []).entries()) parts.push(dsql`${dsql.raw(`hook${i}`)} as (${w})`);
  return dsql`with ${dsql.join(parts, dsql`, `)} select 1 / count(*) as held from fence`;
}

/** Division by zero: the fence's final select found no row (see commitStatement). */
const isFenceMiss = (err: unknown) => (err as { code?: string })?.code === '22012';

/**
 * Writes only, no reads: on Postgres, SERIALIZABLE tracks reads with page-level predicate locks, so reads in
 * concurrent turns of unrelated conversations would abort each other (40001) for nothing. The fence is the
 * conditional UPDATE (or the INSERT of a new conversation), and the primary keys catch everything else.
 * One statement (retried on 40001); with `extraWrites` (approval rows) the same statement and those writes run
 * as one transaction, pipelined.
 */
export async function commitTurn(db: Db, t: TurnRecord): Promise<number> {
  // The last message a *person* wrote (check-ins and reminders are not): /sessions shows it, and a check-in
  // nobody answered since is not followed by another (src/scheduler/fire-checkin.ts).
  const last = [...t.events].reverse().find((e) => e.kind === 'message' || e.kind === 'edit');
  const statement = commitStatement(t, last);
  try {
    if (t.extraWrites) {
      await withTx(db, (tx) => settleInOrder([tx.execute(statement), ...t.extraWrites!(tx)]));
    } else {
      const { sql: text, params } = dialect.sqlToQuery(statement);
      const client = (db as unknown as { $client: Sql }).$client; // drizzle() sets it; the Db type leaves it out
      await retrySerializable(() => client.unsafe(text, params as never[], { prepare: true }));
    }
    return t.state.version + 1;
  } catch (err) {
    if (isUniqueViolation(err))
      throw new StaleTurnError('another turn already committed this conversation state or these messages');
    if (isFenceMiss(err))
      throw new StaleTurnError(`conversation ${t.conversationKey} moved on past version ${t.state.version}`);
    if ((err as Error)?.name === 'ApprovalDecidedError') throw new StaleTurnError((err as Error).message);
    throw err;
  }
}
