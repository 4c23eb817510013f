/**
 * The per-conversation inbox: a Redis stream per conversation holding inbound events in arrival order.
 *
 * Ingress appends (deduplicated by event id, atomically with the append, so a crash can never leave a
 * "seen" mark without the message). The one turn running for a conversation reads a batch, and removes exactly
 * those entries only after the turn's results are committed, so a killed worker loses nothing.
 */
import type { Redis } from 'ioredis';
import { inboundEventSchema, type InboundEvent } from '../core/types.js';
import type { Keys } from './keys.js';
import { runScript } from '../core/scripts.js';

/*
 * The append (scripts/inbox-submit.lua) returns {fresh, needTurn}. `needTurn` is 0 only when a turn job is known to
 * be waiting that has not started reading the inbox yet (the "queued" flag, cleared by the worker as a turn
 * starts): that turn will see this entry, so ingress can skip the BullMQ add — most adds under load. The flag
 * expires, and the sweeper re-adds turns for non-empty inboxes, so a crash between setting it and adding the job
 * heals by itself.
 */

export interface InboxEntry {
  streamId: string;
  /** null for an entry that no longer parses (written by an incompatible version): it is acked and logged. */
  event: InboundEvent | null;
}

function parseEntries(rows: [string, string[]][]): InboxEntry[] {
  return rows.map(([streamId, fields]) => {
    let value: unknown = null;
    try {
      value = JSON.parse(fields[fields.indexOf('e') + 1] ?? 'null');
    } catch {
      /* stays null */
    }
    const parsed = inboundEventSchema.safeParse(value);
    return { streamId, event: parsed.success ? parsed.data : null };
  });
}

export class Inbox {
  constructor(
    private readonly redis: Redis,
    private readonly k: Keys,
    private readonly dedupeTtlSeconds: number,
  ) {}

  /**
   * Append unless this event id was seen before. `fresh` is false for a duplicate; `needTurn` says whether a
   * turn job must be scheduled (false when a queued turn that has not started yet will see this entry).
   */
  async append(conversationKey: string, event: InboundEvent): Promise<{ fresh: boolean; needTurn: boolean }> {
    const { raw: _raw, ...clean } = event; // raw payloads may carry tokens: never enqueued
    const [fresh, needTurn] = await runScript<[number, number]>(
      this.redis,
      'inbox-submit',
      [this.k.seen(event.id), this.k.inbox(conversationKey), this.k.inboxes, this.k.turnQueued(conversationKey)],
      [this.dedupeTtlSeconds, JSON.stringify(clean), conversationKey],
    );
    return { fresh: fresh === 1, needTurn: needTurn === 1 };
  }

  /** A turn is starting: from now on, new entries need a new turn job (it will be kept as the "next" job). */
  async turnStarting(conversationKey: string): Promise<void> {
    await this.redis.del(this.k.turnQueued(conversationKey));
  }

  async read(conversationKey: string, max: number): Promise<InboxEntry[]> {
    return parseEntries(await this.redis.xrange(this.k.inbox(conversationKey), '-', '+', 'COUNT', max));
  }

  /**
   * turnStarting + read, and the model output kept under `keptKey` (src/worker/model-cache.ts), in one script
   * (scripts/inbox-start-turn.lua): a turn's start is one round trip.
   */
  async startTurn(
    conversationKey: string,
    max: number,
    keptKey?: string,
  ): Promise<{ entries: InboxEntry[]; kept: string | null }> {
    const keys = [this.k.turnQueued(conversationKey), this.k.inbox(conversationKey), ...(keptKey ? [keptKey] : [])];
    const [rows, kept] = await runScript<[[string, string[]][], string | null]>(this.redis, 'inbox-start-turn', keys, [
      max,
    ]);
    return { entries: parseEntries(rows), kept: kept ?? null };
  }

  /** The oldest entry as stored (the JSON, unparsed): what a dead letter keeps. */
  async head(conversationKey: string): Promise<{ streamId: string; json: string } | null> {
    const [row] = await this.redis.xrange(this.k.inbox(conversationKey), '-', '+', 'COUNT', 1);
    if (!row) return null;
    const [streamId, fields] = row;
    return { streamId, json: fields[fields.indexOf('e') + 1] ?? '' };
  }

  /** Remove these entries, and the key `alsoDelete` (a turn's kept model output); returns how many remain. */
  async ack(conversationKey: string, streamIds: string[], alsoDelete?: string): Promise<number> {
    // Removes the entries, and forgets an inbox left empty, atomically (an append cannot slip between).
    const inboxKeys = [this.k.inbox(conversationKey), this.k.inboxes, ...(alsoDelete ? [alsoDelete] : [])];
    return runScript<number>(this.redis, 'inbox-ack', inboxKeys, [conversationKey, ...streamIds]);
  }

  async pending(conversationKey: string): Promise<number> {
    return this.redis.xlen(this.k.inbox(conversationKey));
  }

  /** Conversations with a non-empty inbox, for the sweeper. */
  async *conversations(): AsyncGenerator<string> {
    let cursor = '0';
    do {
      const [next, batch] = await this.redis.sscan(this.k.inboxes, cursor, 'COUNT', 500);
      cursor = next;
      yield* batch;
    } while (cursor !== '0');
  }
}
