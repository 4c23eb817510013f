/**
 * The run side of `command.resume` (interrupts.ts has the wire side): a resume run hands its decision to the
 * approvals module, and the turn that settles the approval finalizes it.
 */
import { and, eq, sql as dsql } from 'drizzle-orm';
import { decideApproval } from '../approvals/decide.js';
import type { IngressSink } from '../core/adapter.js';
import type { TurnContext } from '../core/module.js';
import type { ConversationRef, InboundEvent } from '../core/types.js';
import type { Db } from '../db/client.js';
import { retrySerializable } from '../db/retry.js';
import { ApiError } from './http.js';
import { apiSenderId, runEventId, runIdOfEvent } from './ids.js';
import type { Resume } from './interrupts.js';
import { type apiRuns, apiThreads } from './schema.js';
import { conversationKeyOf, getThread, type ThreadRow } from './thread-db.js';

type RunRow = typeof apiRuns.$inferSelect;
/** What a resume run's kwargs hold (run-service.ts `RunKwargs`). */
interface ResumeKwargs {
  sender: { id: string; name?: string };
  resume?: Resume;
}

/** A run other than a resume claims a thread only when it is not waiting for a decision. */
export const notInterrupted = (check: boolean) => (check ? dsql`${apiThreads.status} <> 'interrupted'` : undefined);

export const interruptedThread = (threadId: string) =>
  new ApiError(
    409,
    `thread ${threadId} is interrupted: a tool waits for approval. Resume it with command {"resume": {"approved": true}} or {"approved": false} first, or use multitask_strategy enqueue to run after it`,
  );

export const threadStatusAfter = (status: 'success' | 'error', paused: boolean) =>
  paused ? 'interrupted' : status === 'error' ? 'error' : 'idle';

/**
 * The API runs a committed turn answered (its messages' runs, and a decision's resume run), and the thread whose
 * approval it settled without a resume run (expired, or decided elsewhere): no longer interrupted.
 */
export async function runsOfTurn(
  db: Db,
  getRun: (keyId: string, runId: string) => Promise<RunRow | undefined>,
  ctx: TurnContext,
  outcome: string,
): Promise<{ runs: { keyId: string; runId: string }[]; interruptEnded?: { keyId: string; threadId: string } }> {
  const runs: { keyId: string; runId: string }[] = [];
  for (const e of ctx.events) {
    if (e.platform !== 'api') continue;
    const runId = e.kind === 'approval' ? await resumeRunOf(db, getRun, e) : runIdOfEvent(e.id);
    if (runId) runs.push({ keyId: e.tenant, runId });
  }
  const settled = outcome.startsWith('approval_') && outcome !== 'approval_pending';
  const t = ctx.ref.platform === 'api' && settled && !runs.length ? threadOfRef(ctx.ref) : undefined;
  return { runs, interruptEnded: t && { keyId: ctx.ref.tenant, threadId: t.threadId } };
}

/** The thread a conversation of platform `api` is (its channel is `<thread id>:<incarnation>`, ids.ts). */
export function threadOfRef(ref: ConversationRef): { threadId: string; incarnation: string } | undefined {
  const [threadId, incarnation] = ref.channel.split(':');
  return threadId && incarnation ? { threadId, incarnation } : undefined;
}

/**
 * Checked like a platform's button (src/approvals/decide.ts): the thread's own key decides (another key cannot
 * see the thread). Returns why it was refused (decided or expired meanwhile), or null when the decision is taken.
 */
export async function submitDecision(
  d: { db: Db; sink: IngressSink },
  run: RunRow,
  thread: ThreadRow,
  resume: Resume,
): Promise<string | null> {
  const k = run.kwargs as ResumeKwargs;
  const sender = apiSenderId(run.keyId, k.sender.id);
  const r = await decideApproval(d, {
    approvalId: resume.approvalId,
    decision: resume.decision,
    actor: `api:${sender}`,
    sender: { id: sender, name: k.sender.name ?? k.sender.id },
    allowed: (row) => row.conversationKey === conversationKeyOf(thread),
  });
  // Already on the inbox (a resubmission after a crash, or a racing resume): the turn that settles it answers.
  return r.result === 'accepted' || r.duplicate ? null : r.text;
}

/** The inbound event a run's turn consumes: its message, or for a resume the approval's decision. */
export function eventIdOfRun(run: { runId: string; kwargs: unknown }): string {
  const resume = (run.kwargs as ResumeKwargs).resume;
  return resume ? `approval:${resume.approvalId}` : runEventId(run.runId);
}

/** The resume run a decision answers: the thread's active run, when it resumes that very approval. */
export async function resumeRunOf(
  db: Db,
  getRun: (keyId: string, runId: string) => Promise<RunRow | undefined>,
  e: InboundEvent,
): Promise<string | null> {
  const t = threadOfRef(e.conversation);
  const thread = t && (await getThread(db, e.tenant, t.threadId));
  if (!thread || thread.incarnation !== t.incarnation || !thread.activeRunId) return null;
  const run = await getRun(e.tenant, thread.activeRunId);
  return run && (run.kwargs as ResumeKwargs).resume?.approvalId === e.approval?.id ? run.runId : null;
}

/** An interrupted thread whose approval expired is idle again. */
export async function endInterrupt(db: Db, keyId: string, threadId: string): Promise<void> {
  await retrySerializable(() =>
    db
      .update(apiThreads)
      .set({ status: 'idle', updatedAt: new Date() })
      .where(
        and(
          eq(apiThreads.keyId, keyId),
          eq(apiThreads.threadId, threadId),
          eq(apiThreads.status, 'interrupted'),
          dsql`${apiThreads.activeRunId} is null`,
        ),
      ),
  );
}
