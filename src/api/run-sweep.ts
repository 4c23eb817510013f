/** The API's self-healing pass (run on the leased reconciler): what a crash between two steps of a run can leave. */
import { and, eq, lt, sql as dsql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../db/client.js';
import { inboundMessages, turns } from '../db/schema.js';
import { eventIdOfRun } from './resume.js';
import { runResultOf } from './run-outcome.js';
import type { RunService } from './run-service.js';
import { apiRuns } from './schema.js';
import { getThread } from './thread-db.js';

/**
 * Heals what a crash can leave: a running run whose turn committed but was not finalized (finalize from the
 * spine's records), a running run whose event never reached the inbox (resubmit; the sink dedupes by event id),
 * and pending runs on idle threads (dispatch).
 */
export async function sweepRuns(
  runs: RunService,
  d: { db: Db; log: Logger },
  resubmitAfterMs = 30_000,
): Promise<{ finalized: number; resubmitted: number }> {
  const { db } = d;
  let finalized = 0;
  let resubmitted = 0;
  const running = await db
    .select()
    .from(apiRuns)
    .where(and(eq(apiRuns.status, 'running'), lt(apiRuns.updatedAt, dsql`now() - interval '2 seconds'`)))
    .limit(200);
  for (const run of running) {
    const [consumed] = await db
      .select({ turnId: inboundMessages.turnId })
      .from(inboundMessages)
      .where(eq(inboundMessages.eventId, eventIdOfRun(run)));
    if (consumed) {
      const [turn] = await db.select({ outcome: turns.outcome }).from(turns).where(eq(turns.id, consumed.turnId));
      const { status, error } = runResultOf(turn?.outcome ?? 'replied');
      const paused = turn?.outcome === 'approval_pending';
      await runs.finalize(run.keyId, run.runId, consumed.turnId, status, error, paused);
      finalized++;
    } else if (Date.now() - run.updatedAt.getTime() > resubmitAfterMs) {
      const thread = await getThread(db, run.keyId, run.threadId);
      if (thread) await runs.submit(run, thread);
      await db
        .update(apiRuns)
        .set({ updatedAt: new Date() })
        .where(and(eq(apiRuns.keyId, run.keyId), eq(apiRuns.runId, run.runId)));
      resubmitted++;
    }
  }
  const waiting = await db
    .selectDistinct({ keyId: apiRuns.keyId, threadId: apiRuns.threadId })
    .from(apiRuns)
    .where(and(eq(apiRuns.status, 'pending'), lt(apiRuns.updatedAt, dsql`now() - interval '2 seconds'`)))
    .limit(200);
  for (const w of waiting) await runs.dispatch(w.keyId, w.threadId);
  if (finalized || resubmitted) d.log.info({ finalized, resubmitted }, 'api sweeper healed runs');
  return { finalized, resubmitted };
}
