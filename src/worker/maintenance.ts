/**
 * Self-healing sweeps, run by every worker on a timer. They matter only after crashes in narrow windows
 * (between an inbox append and its turn job, between a commit and its delivery job) or after Redis lost jobs;
 * every schedule call is deduplicated, so running them on all workers at once is harmless.
 */
import { and, eq, lt, sql as dsql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../db/client.js';
import { outbox } from '../db/schema.js';
import type { Inbox } from '../queue/inbox.js';
import type { Queues } from '../queue/queues.js';
import { startPeriodic } from '../core/periodic.js';

export async function sweepOnce(
  db: Db,
  inbox: Inbox,
  queues: Queues,
  log: Logger,
  outboxAgeMs = 30_000,
): Promise<{ turns: number; deliveries: number }> {
  let turns = 0;
  for await (const conversationKey of inbox.conversations()) {
    await queues.scheduleTurn(conversationKey);
    turns++;
  }
  const stale = await db
    .selectDistinct({ key: outbox.conversationKey })
    .from(outbox)
    .where(
      and(
        eq(outbox.status, 'pending'),
        lt(outbox.createdAt, dsql`now() - make_interval(secs => ${outboxAgeMs / 1000})`),
      ),
    )
    .limit(1_000);
  for (const { key } of stale) await queues.scheduleDelivery(key);
  if (stale.length) log.info({ deliveries: stale.length }, 'sweeper rescheduled pending deliveries');
  return { turns, deliveries: stale.length };
}

/** The worker's sweeps on the shared periodic loop; returns the stop function. */
export function startSweeper(run: () => Promise<unknown>, everyMs: number, log: Logger): () => Promise<void> {
  return startPeriodic(run, everyMs, log, { what: 'sweep' });
}
