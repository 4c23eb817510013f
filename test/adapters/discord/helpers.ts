/** Shared bits for the Discord adapter tests: a recording sink, polling, log capture, Redis key cleanup. */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import type { CommandInvocation, CommandResult, IngressSink } from '../../../src/core/adapter.js';
import type { InboundEvent } from '../../../src/core/types.js';
import { sleep, waitFor } from '../../helpers/wait.js';

export { sleep, waitFor };

export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface CapturedLog {
  log: Logger;
  lines: string[];
  text(): string;
}

export function captureLog(): CapturedLog {
  const lines: string[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void lines.push(s) });
  return { log, lines, text: () => lines.join('') };
}

export interface RecordingSink extends IngressSink {
  events: InboundEvent[];
  invocations: CommandInvocation[];
  claims: string[];
}

/** Records what the adapter hands over; dedupes like the real sink (by event id / claim id). */
export function recordingSink(
  command: (inv: CommandInvocation) => Promise<CommandResult> = async (inv) => ({
    text: `ran ${inv.name}`,
    ephemeral: true,
  }),
  log: Logger = pino({ level: 'silent' }),
): RecordingSink {
  const seen = new Set<string>();
  const claimed = new Set<string>();
  const sink: RecordingSink = {
    events: [],
    invocations: [],
    claims: [],
    log,
    async submit(event) {
      if (seen.has(event.id)) return 'duplicate';
      seen.add(event.id);
      sink.events.push(event);
      return 'accepted';
    },
    async command(inv) {
      sink.invocations.push(inv);
      return command(inv);
    },
    async claim(id) {
      sink.claims.push(id);
      if (claimed.has(id)) return false;
      claimed.add(id);
      return true;
    },
  };
  return sink;
}

export function testPrefix(file: string): string {
  return `test:discord:${file}:${randomUUID().slice(0, 8)}`;
}

export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 200);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
}

/** Collects unhandled rejections while a suite runs, so "never an unhandled rejection" is asserted, not assumed. */
export function trackUnhandled(): { errors: unknown[]; dispose(): void } {
  const errors: unknown[] = [];
  const onRejection = (err: unknown) => errors.push(err);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onRejection);
  return {
    errors,
    dispose() {
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onRejection);
    },
  };
}
