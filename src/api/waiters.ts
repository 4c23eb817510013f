/**
 * Requests that wait for a run (runs/wait, join, streams) are woken by the `run-done` pub/sub message that
 * `RunService.publish` sends from whichever process finalized the run, on the shared pub/sub waiters. Pub/sub is
 * only a latency aid: every waiter also polls the run's durable state, so a lost message costs at most one poll
 * interval.
 */
import type { Logger } from 'pino';
import { PubSubWaiters, type WaitHandle as Handle } from '../core/waiters.js';
import type { FinalStatus, RunDone } from './run-model.js';

export type WaitHandle = Handle<FinalStatus>;

/** How many recent failures' reasons a process keeps (a waiter reads it right after the wake-up). */
const KEEP_ERRORS = 1_000;

export class RunWaiters extends PubSubWaiters<FinalStatus> {
  private readonly errors = new Map<string, string>();

  constructor(channel: string, log: Logger) {
    super(channel, log, (msg) => {
      const d = JSON.parse(msg) as RunDone;
      if (d.error) this.keepError(d.runId, d.error);
      return { ids: [d.runId], value: d.status };
    });
  }

  /** Why a run that just failed failed, if this process heard it finish. */
  errorOf(runId: string): string | undefined {
    return this.errors.get(runId);
  }

  private keepError(runId: string, error: string): void {
    this.errors.set(runId, error);
    if (this.errors.size > KEEP_ERRORS) this.errors.delete(this.errors.keys().next().value!);
  }
}
