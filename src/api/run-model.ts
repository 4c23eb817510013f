/**
 * What a run is: its row, the options it was created with, what waiters are told when it ends, and the one inbound
 * event it becomes (a run takes the same path as a platform message: src/api/run-service.ts).
 */
import type { InboundEvent } from '../core/types.js';
import { apiSenderId, runEventId, threadRef } from './ids.js';
import type { Resume } from './interrupts.js';
import type { apiRuns } from './schema.js';
import type { ThreadRow } from './thread-db.js';

export type RunRow = typeof apiRuns.$inferSelect;
export type Strategy = 'reject' | 'enqueue' | 'interrupt' | 'rollback';
export type FinalStatus = 'success' | 'error' | 'interrupted' | 'deleted';

export interface RunKwargs {
  input: string;
  attachments: { url: string; mimeType?: string; name?: string }[];
  sender: { id: string; name?: string };
  stream_mode: string[];
  /** Stateless runs: delete the thread when the run is final. */
  on_completion: 'delete' | 'keep';
  config: Record<string, unknown>;
  /** A resume (`command.resume`): the run decides this approval instead of adding input (interrupts.ts). */
  resume?: Resume;
}

export interface NewRun {
  runId: string;
  assistantId: string;
  strategy: Strategy;
  metadata: Record<string, unknown>;
  kwargs: RunKwargs;
}

export interface RunDone {
  keyId: string;
  runId: string;
  threadId: string;
  status: FinalStatus;
  /** Why a failed run failed: a stateless run's record is deleted with its thread, so waiters learn it here. */
  error?: string | null;
}

/** The inbound event a run's input becomes: its own id, the thread as the conversation, the caller as sender. */
export function runEvent(run: RunRow, thread: ThreadRow): InboundEvent {
  const k = run.kwargs as RunKwargs;
  return {
    id: runEventId(run.runId),
    platform: 'api',
    tenant: run.keyId,
    conversation: threadRef(run.keyId, thread.threadId, thread.incarnation),
    sender: { id: apiSenderId(run.keyId, k.sender.id), name: k.sender.name ?? k.sender.id, isBot: false },
    text: k.input,
    attachments: k.attachments.map((a) => ({
      url: a.url,
      mimeType: a.mimeType,
      ...(a.name ? { name: a.name } : {}),
    })),
    mentionsBot: true,
    kind: 'message',
    sentAt: run.createdAt.toISOString(),
    receivedAt: new Date().toISOString(),
  };
}
