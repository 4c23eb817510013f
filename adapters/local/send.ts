/**
 * "Sending" on the local channel appends the part to a capped Redis stream per conversation, which the HTTP API
 * and the terminal client read. The stream id is the receipt. Since we own this "platform", it gets the
 * idempotency aid real platforms lack: a part's key is claimed atomically with the append, so even a crash between
 * send and receipt cannot show a part twice. The append also publishes the stream key (never the text) on
 * `notifyChannel`, which wakes the long-polls waiting on that stream (see long-poll.ts).
 */
import type { Redis } from 'ioredis';
import type { RenderedPart, SendReceipt } from '../../src/core/types.js';
import { localSentMarkKey } from '../../src/queue/keys.js';
import { runScript } from '../../src/core/scripts.js';

export const LOCAL_HISTORY_MAX = 1_000;

export async function sendLocal(
  redis: Redis,
  streamKey: string,
  notifyChannel: string,
  part: RenderedPart,
): Promise<SendReceipt> {
  const id = await runScript<string>(
    redis,
    'local-send',
    [streamKey, localSentMarkKey(streamKey, part.idempotencyKey)],
    [LOCAL_HISTORY_MAX, part.text, `${part.index + 1}/${part.total}`, part.idempotencyKey, notifyChannel],
  );
  return { platformMessageId: id };
}

export interface LocalReply {
  id: string;
  text: string;
  part: string;
  key: string;
}

/**
 * Replies after `after` (a stream id), at once. Never `BLOCK`: a blocking read would hold the connection it runs
 * on, and callers share theirs (waiting is LocalPolls' job).
 */
export async function readLocal(redis: Redis, streamKey: string, after: string): Promise<LocalReply[]> {
  const res = await redis.xread('COUNT', 1000, 'STREAMS', streamKey, after);
  const rows = res?.[0]?.[1] ?? [];
  return rows.map(([id, f]) => {
    const get = (k: string) => f[f.indexOf(k) + 1] ?? '';
    return { id, text: get('text'), part: get('part'), key: get('key') };
  });
}
