/**
 * Requests that wait for a run (runs/wait, join, streams) are woken by the `run-done` pub/sub message that
 * `RunService.publish` sends from whichever process finalized the run, on the shared pub/sub waiters. Pub/sub is
 * only a latency aid: every waiter also polls the run's durable state, so a lost message costs at most one poll
 * interval.
 */
import type { Logger } from 'pino';
import { PubSubWaiters, type WaitHandle as Handle } from '../core/waiters.js';
import type { FinalStatus, RunDone } from './run-service.js';

export type WaitHandle = Handle<FinalStatus>;

export class RunWaiters extends PubSubWaiters<FinalStatus> {
  constructor(channel: string, log: Logger) {
    super(channel, log, (msg) => {
      const d = JSON.parse(msg) as RunDone;
      return { ids: [d.runId], value: d.status };
    });
  }
}
