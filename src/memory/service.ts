/** The memory module's operations over one store: recall for a turn, the tools' actions, list and forget. */
import type { Logger } from 'pino';
import { consolidate } from './consolidate.js';
import { parseStatement } from './extract/offline.js';
import type { MemoryOp } from './extract/types.js';
import { factsInstruction, recallFacts, summaryInstruction, summarySource, type RecallSettings } from './recall.js';
import type { Memory, MemoryStore, VisibilityOptions } from './types.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const day = (d: Date) => d.toISOString().slice(0, 10);

export class MemoryService {
  constructor(
    readonly store: MemoryStore,
    private readonly settings: RecallSettings,
    private readonly log: Logger,
  ) {}

  /** The instructions for one turn: relevant facts, and this conversation's summary if its history was compacted. */
  async instructionsFor(
    userKey: string,
    conversationKey: string,
    sessionId: string | null,
    query: string,
    now: Date,
    scope: VisibilityOptions = {},
  ): Promise<string[]> {
    const [facts, summaries] = await Promise.all([
      recallFacts(this.store, userKey, query, now, this.settings, scope),
      sessionId ? this.store.list(userKey, { kind: 'summary', limit: 50, visibleIn: scope.visibleIn }) : [],
    ]);
    const summary = sessionId
      ? summaries.find((m) => m.source === summarySource(conversationKey, sessionId))
      : undefined;
    return [factsInstruction(facts), summaryInstruction(summary, Math.floor(this.settings.maxChars / 2))].filter(
      (s): s is string => !!s,
    );
  }

  /** Current memories, newest first (for the list command); in a group only those visible there. */
  listMemories(userKey: string, limit = 100, scope: VisibilityOptions = {}): Promise<Memory[]> {
    return this.store.list(userKey, { limit, visibleIn: scope.visibleIn });
  }

  /** Let one memory be recalled in every conversation (or make it private again). */
  shareMemory(userKey: string, id: string, shared: boolean): Promise<boolean> {
    return this.store.setShared(userKey, id, shared);
  }

  /** Forget one memory by id, or all of them. Returns how many were forgotten (0: not this user's, or gone). */
  forgetMemory(userKey: string, id: string | 'all'): Promise<number> {
    return this.store.delete(userKey, id);
  }

  /**
   * `where`: the conversation the fact is told in (its scope); `shared` only when the user said it may be used
   * everywhere. Superseding uses all of the user's facts (a newer value replaces the old one wherever it was learned).
   */
  async remember(userKey: string, fact: string, where: { scope: string; shared?: boolean }): Promise<string> {
    // The tool's facts are third person ("The user's favourite colour is green."): read them as "my ... is ...", so
    // they carry a subject and supersede the older value, as the tool's description promises.
    const statement = fact
      .trim()
      .replace(/[.!]+$/, '')
      .replace(/^the user's\s+/i, 'my ');
    const parsed = parseStatement(statement, () => null).filter((op) => op.op !== 'delete');
    const ops: MemoryOp[] = parsed.length ? parsed : [{ op: 'add', text: fact.trim(), subject: null, target: null }];
    const known = await this.store.list(userKey, { kind: 'fact', limit: 200 });
    const r = await consolidate(this.store, userKey, ops, known, {
      source: where.scope,
      scope: where.scope,
      shared: where.shared,
    });
    const saved = [...r.added, ...r.superseded.map((s) => s.now)];
    this.log.debug({ saved: saved.length }, 'remember tool');
    return saved.length ? `Remembered: ${saved.map((m) => m.text).join(' ')}` : 'Already remembered.';
  }

  async recallText(userKey: string, query: string, now: Date, scope: VisibilityOptions = {}): Promise<string> {
    const facts = await recallFacts(
      this.store,
      userKey,
      query,
      now,
      { ...this.settings, limit: Math.min(this.settings.limit, 10) },
      scope,
    );
    if (!facts.length) return 'No memories found.';
    return facts.map((m) => `- [${m.id}] ${m.text} (noted ${day(m.createdAt)})`).join('\n');
  }

  /** In a group (`scope.visibleIn`), a description only matches memories visible there: the answer quotes them. */
  async forgetText(userKey: string, what: string, scope: VisibilityOptions = {}): Promise<string> {
    const w = what.trim();
    if (/^(all|everything)$/i.test(w)) return `Forgot ${await this.store.delete(userKey, 'all')} memories.`;
    if (UUID.test(w)) return (await this.store.delete(userKey, w)) ? 'Forgotten.' : 'No such memory.';
    const known = await this.store.list(userKey, { kind: 'fact', limit: 200, visibleIn: scope.visibleIn });
    const mine = /^my\s+(.+)$/i.exec(w);
    const r = await consolidate(
      this.store,
      userKey,
      [{ op: 'delete', text: w, subject: mine ? mine[1]! : null, target: null }],
      known,
    );
    return r.deleted.length ? `Forgot: ${r.deleted.map((m) => m.text).join(' ')}` : 'No matching memory.';
  }
}
