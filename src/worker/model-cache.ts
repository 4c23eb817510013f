/**
 * A model answer is bought once per batch of messages. The agent runs before the commit, so a turn that fails
 * only at commit (database away, a poison value) would otherwise call the model — and run its tools — again on
 * every retry. The output and the items it produced are kept in Redis, one key per conversation (one turn runs at
 * a time) tagged with the batch's event ids, until the turn commits, for at most MODEL_OUTPUT_TTL_SECONDS: past
 * that a retry asks the model again. The key is read with the batch and deleted with its ack (src/queue/inbox.ts),
 * so keeping it costs one write per turn.
 */
import type { AgentInputItem } from '@openai/agents';
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { TurnOutput } from '../agent/runtime.js';

export const MODEL_OUTPUT_TTL_SECONDS = 6 * 3600;

export interface KeptOutput extends TurnOutput {
  items: AgentInputItem[];
}

export function batchHash(eventIds: readonly string[]): string {
  return createHash('sha256').update(eventIds.join('\n')).digest('hex').slice(0, 32);
}

/**
 * The output kept for this batch (`kept`: the key's value, read with the batch), or `run()`'s, kept for the
 * retries. A Redis error while keeping it only costs a second model call later, so it never fails the turn.
 */
export async function reuseModelOutput(
  redis: Redis,
  key: string | undefined,
  batch: string,
  kept: string | null,
  run: () => Promise<KeptOutput>,
): Promise<KeptOutput & { reused: boolean }> {
  if (key && kept) {
    try {
      const k = JSON.parse(kept) as { batch?: string; out?: KeptOutput };
      // Another batch's output (the batch grew, or a message was dead-lettered) is not this one's answer.
      if (k.batch === batch && k.out) return { ...k.out, reused: true };
    } catch {
      /* unreadable: run again */
    }
  }
  const out = await run();
  if (key) await redis.set(key, JSON.stringify({ batch, out }), 'EX', MODEL_OUTPUT_TTL_SECONDS).catch(() => undefined);
  return { ...out, reused: false };
}

export async function forgetModelOutput(redis: Redis, key: string | undefined): Promise<void> {
  if (key) await redis.del(key).catch(() => undefined);
}
