/**
 * The memory-store contract. Every call is scoped by the user key (`platform:tenant:userId`): a store never reads,
 * changes or returns another user's memories, whatever ids it is given.
 */

/** fact: something about the user; summary: the rolling summary of a conversation's compacted history. */
export type MemoryKind = 'fact' | 'summary';

export interface NewMemory {
  text: string;
  kind?: MemoryKind;
  /** Normalised slot the fact fills ("favourite colour"), so a newer value can supersede an older one. */
  subject?: string | null;
  /** Conversation key the memory came from (summaries: the conversation they summarise). */
  source?: string | null;
  /** When the user said it (defaults to now). */
  createdAt?: Date;
  /** Conversation key where it was learned: a group conversation recalls only its own (see `visibleIn`). */
  scope?: string | null;
  /** Recallable in every conversation, groups included (only when the owner said so). */
  shared?: boolean;
}

export interface Memory {
  id: string;
  userKey: string;
  kind: MemoryKind;
  text: string;
  subject: string | null;
  source: string | null;
  createdAt: Date;
  scope: string | null;
  shared: boolean;
}

export interface ScoredMemory extends Memory {
  /** Relevance from the store's hybrid ranking (higher is better; comparable only within one result list). */
  score: number;
}

/**
 * Where the result will be shown. Set for group conversations (their key): only memories learned there, or shared
 * by their owner, are returned. Unset (DMs): all of the user's memories.
 */
export interface VisibilityOptions {
  visibleIn?: string;
}

export interface SearchOptions extends VisibilityOptions {
  limit: number;
  kind?: MemoryKind;
}

export interface ListOptions extends VisibilityOptions {
  limit?: number;
  kind?: MemoryKind;
}

export interface MemoryStore {
  /** 'postgres' | 'qdrant', for logs, health and the benchmark. */
  readonly name: string;
  add(userKey: string, memory: NewMemory): Promise<Memory>;
  /**
   * Store `memory` and retire `oldId` (it is never recalled or listed again). An `oldId` that is not this user's is
   * left alone; the new memory is stored either way.
   */
  supersede(userKey: string, oldId: string, memory: NewMemory): Promise<Memory>;
  /**
   * Delete one of this user's memories, or all of them (superseded versions included). Returns how many current
   * memories were deleted.
   */
  delete(userKey: string, id: string | 'all'): Promise<number>;
  /** Hybrid (dense + lexical) search over this user's current memories, best first. */
  search(userKey: string, query: string, opts: SearchOptions): Promise<ScoredMemory[]>;
  /** This user's current memories, newest first. */
  list(userKey: string, opts?: ListOptions): Promise<Memory[]>;
  /** Mark one of this user's current memories shared (or private again). False when it is not theirs or gone. */
  setShared(userKey: string, id: string, shared: boolean): Promise<boolean>;
}
