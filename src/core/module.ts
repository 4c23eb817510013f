/**
 * What the pipeline tells the modules about a turn, and what their turn hooks may answer. The module contract
 * itself (deps, what a module contributes, provides and requires) is in src/modules/contract.ts.
 */
import type { Placeholder, SQL } from 'drizzle-orm';
import type { ConversationRef, InboundEvent } from './types.js';

/** What the agent's tools and the turn hooks know about the turn being run. */
export interface TurnContext {
  turnId: string;
  conversationKey: string;
  ref: ConversationRef;
  /** The fresh events this turn answers, in arrival order. */
  events: InboundEvent[];
  /** The person the turn is for (the last human sender): `platform:tenant:userId`. Memory and budgets key on it. */
  userKey: string;
  sender: { id: string; name?: string };
  /** Kind of the last event: 'message' | 'edit' | 'checkin' | 'reminder'. */
  kind: InboundEvent['kind'];
  now: Date;
  /** The conversation's current session (summaries belong to it); null before its first turn is committed. */
  sessionId: string | null;
  /** Extra system instructions for this turn (recalled memories, check-in guidance), added by hooks. */
  instructions: string[];
  /**
   * The agent that answers this turn (src/agents sets it): its name, whether it keeps long-term memory, and
   * whether its model takes image input (unset: MODEL_ACCEPTS_IMAGES).
   */
  agent?: { name: string; memory: boolean; images?: boolean };
  /**
   * Set when the turn resumes a run stopped for an approval (src/worker/approval-turn.ts): `requester` is the
   * `platform:userId` whose message started the run (the sender here is whoever decided), and the prompt's
   * platform message, where it was sent, is where the resumed answer is previewed and then committed.
   */
  approval?: { id: string; requester: string; promptMessageId?: string };
  /** What each hook's `read` returned, by its name, read with the turn's state (unset: not read; read it yourself). */
  reads?: Record<string, unknown>;
  /**
   * Set by the live preview once the answer shows on the platform as it is written (src/live/preview.ts): a
   * "working on it" sign is then redundant, and not started (on Slack it costs two rate-limited calls a turn).
   */
  previewShown?: boolean;
}

/**
 * A module's read folded into the turn's one statement (src/worker/commit.ts), so a turn reads its state, history
 * and every module's data in one round trip. `sql` is a scalar subquery (one json value), built once per worker and
 * prepared; `p(name)` is one of this read's parameters, which `params` gives for each batch (all of its events:
 * a hook that drops some later just ignores theirs).
 */
export interface TurnRead {
  name: string;
  sql(p: (param: string) => Placeholder): SQL;
  params(batch: { conversationKey: string; events: InboundEvent[]; now: Date }): Record<string, unknown>;
}

export type BeforeRun =
  /**
   * Run the agent (optionally with fewer history items, e.g. a lean check-in context). `drop`: ids of events to
   * leave out of the run (a banned or rate-limited sender's messages in a group batch): still consumed, never shown
   * to the model; later hooks and the turn context see only the rest.
   */
  | { action: 'run'; historyLimit?: number; drop?: string[] }
  /** Do not run the agent: consume the messages and answer with this text (null = say nothing). */
  | { action: 'reply'; text: string | null; outcome: string }
  /** Leave the messages in the inbox and look again later (maintenance pause); nothing is consumed. */
  | { action: 'defer'; delayMs: number };

export interface TurnOutcome {
  outcome: string;
  reply: string | null;
  inputTokens: number;
  outputTokens: number;
  model: string;
}

export interface TurnHooks {
  /** Data `beforeRun` needs, read with the turn's state (`ctx.reads[read.name]`). */
  read?: TurnRead;
  /** Before the agent runs. May push to `ctx.instructions`. The first non-'run' answer of any module wins. */
  beforeRun?(ctx: TurnContext): Promise<BeforeRun | void>;
  /**
   * Statements written in the turn's own commit (usage accounting): atomic with the turn, so a retried turn never
   * counts twice and a crash never loses them, at no extra round trip. Each must be one INSERT, UPDATE or DELETE
   * with no WITH of its own, on a table none of the turn's other writes touches: it becomes a CTE of the commit's
   * one statement (CockroachDB refuses two writes to a table in one statement). A failure fails the commit.
   */
  commitWrites?(ctx: TurnContext, outcome: TurnOutcome): SQL[];
  /** After the turn is committed (memory extraction scheduling). Failures are logged, not fatal. */
  afterCommit?(ctx: TurnContext, outcome: TurnOutcome): Promise<void>;
}

/**
 * A module's scripted answer for the offline model (no API key: development and tests), so its own phrasings
 * ("remind me ... to ...") work end to end without a real model. `null`: not this module's turn.
 */
export type OfflineTurn = (
  userTexts: string[],
  toolResult: Record<string, unknown> | undefined,
  toolNames: string[],
) => { text: string } | { call: { name: string; arguments: string } } | null;
