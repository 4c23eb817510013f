/**
 * Commits one turn in a single serializable transaction (retried on 40001): the consumed inbound ids, the new
 * session items, the turn record and the reply (outbox). Fenced by the conversation's `version`, so a stale worker
 * can never commit over a newer turn, and by the inbound ids' primary key, so no message is answered twice.
 */
import type { AgentInputItem } from '@openai/agents';
import { and, eq, sql as dsql, type SQL } from 'drizzle-orm';
import { randomUUID } from 'node:crypto';
import type { TurnRead } from '../core/module.js';
import type { ConversationRef, InboundEvent } from '../core/types.js';
import { withTx, type Db, type Tx } from '../db/client.js';
import { preparedQuery } from '../db/prepared.js';
import { conversations, inboundMessages, outbox, sessionItems, turns } from '../db/schema.js';

export class StaleTurnError extends Error {
  override name = 'StaleTurnError';
}

export interface ConversationState {
  sessionId: string;
  version: number;
  /**
   * Session items the conversation had at `version`, when read with it: the commit then writes the version fence
   * and the new items in one pipelined batch instead of waiting for the fence's answer first.
   */
  itemCount?: number;
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
      itemCount: conversations.itemCount,
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
  const state = {
    sessionId: row.sessionId as string,
    version: Number(row.version ?? 0),
    itemCount: Number(row.itemCount ?? 0),
  };
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
  /** The modules' statements for this turn (TurnHooks.commitWrites: usage), run in the same transaction. */
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

/**
 * Writes only, no reads: on Postgres, SERIALIZABLE tracks reads with page-level predicate locks, so reads in
 * concurrent turns of unrelated conversations would abort each other (40001) for nothing. The fence is the
 * conditional UPDATE (or the INSERT of a new conversation), and the primary keys catch everything else.
 */
export async function commitTurn(db: Db, t: TurnRecord): Promise<number> {
  // The last message a *person* wrote (check-ins and reminders are not): /sessions shows it, and a check-in
  // nobody answered since is not followed by another (src/scheduler/fire-checkin.ts).
  const last = [...t.events].reverse().find((e) => e.kind === 'message' || e.kind === 'edit');
  const lastMessageAt = last ? new Date(last.receivedAt) : null;
  const n = t.items.length;
  try {
    return await withTx(db, async (tx) => {
      let itemCount: number;
      const seq = t.state.version + 1;
      // Sent ahead of the inserts, answered after them (see `writes` below); its rows say whether the fence held.
      let fence: Promise<unknown[]> | undefined;
      // A new conversation's row, sent with the inserts too: a second first turn fails on its key (stale).
      let created: Promise<unknown> | undefined;
      // The version fence: moves the conversation on only from the version this turn read.
      const bumpVersion = () =>
        tx
          .update(conversations)
          .set({
            version: seq,
            itemCount: dsql`${conversations.itemCount} + ${n}`,
            ref: t.ref,
            lastUserId: last?.sender.id ?? undefined,
            lastMessageAt: lastMessageAt ?? undefined,
            updatedAt: new Date(),
          })
          .where(
            and(
              eq(conversations.key, t.conversationKey),
              eq(conversations.version, t.state.version),
              eq(conversations.sessionId, t.state.sessionId),
            ),
          );
      if (t.state.version > 0 && t.state.itemCount !== undefined) {
        // The count read with the version is still the count while the version holds: every write of item_count
        // bumps the version (or, for PostgresSession, collides with these positions: a unique violation, stale).
        fence = bumpVersion().returning({ key: conversations.key }).execute();
        itemCount = t.state.itemCount + n;
      } else if (t.state.version === 0) {
        created = tx
          .insert(conversations)
          .values({
            key: t.conversationKey,
            platform: t.ref.platform,
            tenant: t.ref.tenant,
            ref: t.ref,
            sessionId: t.state.sessionId,
            version: seq,
            itemCount: n,
            lastUserId: last?.sender.id,
            lastMessageAt,
          })
          .execute();
        itemCount = n;
      } else {
        const [row] = await bumpVersion().returning({ itemCount: conversations.itemCount });
        if (!row)
          throw new StaleTurnError(`conversation ${t.conversationKey} moved on past version ${t.state.version}`);
        itemCount = Number(row.itemCount);
      }
      // Independent inserts, sent together: postgres.js pipelines them on the transaction's connection, so the
      // commit costs one round trip for all four instead of one each. Results arrive in order, so the first
      // rejection is the statement that failed (the rest then fail as "transaction aborted").
      const writes: Promise<unknown>[] = fence ? [fence] : created ? [created] : [];
      if (t.events.length) {
        writes.push(
          tx
            .insert(inboundMessages)
            .values(
              t.events.map((e) => ({
                eventId: e.id,
                conversationKey: t.conversationKey,
                turnId: t.turnId,
                senderId: e.sender.id,
                receivedAt: new Date(e.receivedAt),
              })),
            )
            .execute(),
        );
      }
      if (n) {
        const base = itemCount - n;
        writes.push(
          tx
            .insert(sessionItems)
            .values(
              t.items.map((item, i) => ({
                sessionId: t.state.sessionId,
                position: base + i,
                turnId: t.turnId,
                senderKey: t.itemSenders?.[i] ?? null,
                agent: t.itemAgents?.[i] ?? null,
                item,
              })),
            )
            .execute(),
        );
      }
      writes.push(
        tx
          .insert(turns)
          .values({
            id: t.turnId,
            conversationKey: t.conversationKey,
            sessionId: t.state.sessionId,
            seq,
            outcome: t.outcome,
            eventIds: t.answers ?? t.events.map((e) => e.id),
            inputTokens: t.inputTokens,
            outputTokens: t.outputTokens,
            model: t.model,
            durationMs: t.durationMs,
          })
          .execute(),
      );
      if (t.reply !== null) {
        writes.push(
          tx
            .insert(outbox)
            .values({
              turnId: t.turnId,
              conversationKey: t.conversationKey,
              seq,
              ref: t.ref,
              markdown: t.reply,
              replyTo: t.replyTo ?? null,
              approvalId: t.approvalId ?? null,
              replacesApproval: t.replacesApproval ?? null,
            })
            .execute(),
        );
      }
      if (t.extraWrites) writes.push(...t.extraWrites(tx));
      for (const w of t.hookWrites ?? []) writes.push(tx.execute(w));
      await settleInOrder(writes);
      if (fence && !(await fence).length)
        throw new StaleTurnError(`conversation ${t.conversationKey} moved on past version ${t.state.version}`);
      return seq;
    });
  } catch (err) {
    if (isUniqueViolation(err))
      throw new StaleTurnError('another turn already committed this conversation state or these messages');
    if ((err as Error)?.name === 'ApprovalDecidedError') throw new StaleTurnError((err as Error).message);
    throw err;
  }
}
