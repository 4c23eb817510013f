/**
 * Where a turn's preview message is recorded: the conversation's `previews` hash, under the turn's first inbound
 * event (which every attempt of the turn shares), for a day. The outbox reads it to turn the preview into the
 * reply's first part, and deletes it once the reply is out.
 *
 * On a platform that can list the bot's unsettled previews (`LivePreviewOps.unsettled`, Slack) a post is preceded
 * by a "posting since" mark: a worker killed after the platform took the post but before the message id was
 * recorded leaves that mark, and the retried attempt looks the message up instead of leaving it half-written.
 */
import type { Redis } from 'ioredis';
import { runScript } from '../core/scripts.js';

const TTL_SECONDS = 24 * 3600;
/** Message ids never start with it (Slack ts, Discord snowflakes, Telegram integers, local ids). */
const POSTING = '?';

export type PreviewRecord = { messageId: string } | { postingSince: Date } | null;

export async function readPreview(redis: Redis, key: string, firstEventId: string): Promise<PreviewRecord> {
  const value = await redis.hget(key, firstEventId);
  if (value === null) return null;
  if (!value.startsWith(POSTING)) return { messageId: value };
  const at = Number(value.slice(POSTING.length));
  return Number.isFinite(at) ? { postingSince: new Date(at) } : null;
}

/** The preview message of the turn answering these events, if one was posted and its id recorded. */
export async function previewOf(redis: Redis, key: string, firstEventId: string): Promise<string | null> {
  const record = await readPreview(redis, key, firstEventId);
  return record && 'messageId' in record ? record.messageId : null;
}

const record = (redis: Redis, key: string, firstEventId: string, value: string) =>
  runScript(redis, 'hash-set-ttl', [key], [firstEventId, value, TTL_SECONDS]);

export async function recordPreview(redis: Redis, key: string, firstEventId: string, messageId: string) {
  await record(redis, key, firstEventId, messageId);
}

/** Written before a post only a listing can find again; `at` is a little before the platform could have it. */
export async function recordPosting(redis: Redis, key: string, firstEventId: string, at = Date.now()) {
  await record(redis, key, firstEventId, `${POSTING}${at}`);
}
