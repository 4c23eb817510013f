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
}

export interface Memory {
  id: string;
  userKey: string;
  kind: MemoryKind;
  text: string;
  subject: string | null;
  source: string | null;
  createdAt: Date;
}

export interface ScoredMemory extends Memory {
  /** Relevance from the store's hybrid ranking (higher is better; comparable only within one result list). */
  score: number;
}

export interface SearchOptions {
  limit: number;
  kind?: MemoryKind;
}

export interface ListOptions {
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
}
