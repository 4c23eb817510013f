/**
 * Redis marks around a part's send, so a crash never turns one send into two:
 * - `sending:<epoch ms>`, set just before a send to a platform that can be asked afterwards (ChannelAdapter
 *   findSent): a delivery that finds it asks the platform whether the part is already there before posting again;
 * - the platform's message id, set once the platform accepted the part, until its database receipt is written:
 *   a delivery that finds it writes the receipt instead of sending (the database may have been away).
 * Both are removed with the receipt; the TTL only bounds a mark a crash left behind and nobody healed.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { safeErr } from '../observability/logger.js';

const SENT_MARK_TTL_SECONDS = 7 * 24 * 3600;
const SENDING = 'sending:';

export interface SentMarkDeps {
  redis: Redis;
  /** Where a part's mark lives; without it, only the database receipt counts. */
  sentKey?(part: string): string;
  log: Logger;
}

/** A part's mark as the last delivery left it. */
export type PartMark = { sent: string } | { sendingSince: Date };

/** Marks of a reply's parts without a receipt, by part index. One MGET per reply. */
export async function readMarks(deps: SentMarkDeps, turnId: string, parts: number[]): Promise<Map<number, PartMark>> {
  const found = new Map<number, PartMark>();
  if (!deps.sentKey || !parts.length) return found;
  const values = await deps.redis.mget(...parts.map((i) => deps.sentKey!(`${turnId}:${i}`)));
  for (const [k, v] of values.entries()) {
    if (v === null) continue;
    found.set(
      parts[k]!,
      v.startsWith(SENDING) ? { sendingSince: new Date(Number(v.slice(SENDING.length))) } : { sent: v },
    );
  }
  return found;
}

/** Just before a send whose outcome the platform can be asked about later (a crash may lose its answer). */
export async function markSending(deps: SentMarkDeps, turnId: string, i: number): Promise<void> {
  if (deps.sentKey)
    await deps.redis.set(deps.sentKey(`${turnId}:${i}`), `${SENDING}${Date.now()}`, 'EX', SENT_MARK_TTL_SECONDS);
}

/** Best effort: a failure leaves the database receipt (being written at the same time) as the only record. */
export async function markSent(
  deps: SentMarkDeps,
  turnId: string,
  i: number,
  platformMessageId: string,
): Promise<void> {
  if (!deps.sentKey) return;
  await deps.redis.set(deps.sentKey(`${turnId}:${i}`), platformMessageId, 'EX', SENT_MARK_TTL_SECONDS).then(
    () => undefined,
    (err: Error) =>
      deps.log.warn(
        { turnId, part: i, err: safeErr(err) },
        'could not mark a sent part in Redis; the receipt write stands alone',
      ),
  );
}

export async function clearSentMark(deps: SentMarkDeps, turnId: string, i: number): Promise<void> {
  if (deps.sentKey) await deps.redis.unlink(deps.sentKey(`${turnId}:${i}`)).catch(() => 0); // the TTL is the fallback
}
