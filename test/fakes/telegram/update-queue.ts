/**
 * The fake Bot API's updates, as long polling sees them: a queue that an offset confirms (Telegram then forgets
 * every update below it), one getUpdates held open at a time (a second one, or one while a webhook is set, is
 * answered 409 Conflict and counted), held polls answered as soon as an update arrives.
 */
import type { ServerResponse } from 'node:http';

export interface FakeError {
  error_code: number;
  description: string;
  parameters?: Record<string, unknown>;
}

/** How the fake answers a request: `{ ok: true, result }`, or the error with its HTTP status. */
export interface Answer {
  ok(res: ServerResponse, result: unknown): void;
  fail(res: ServerResponse, e: FakeError): void;
}

interface PendingPoll {
  res: ServerResponse;
  offset: number;
  timer: NodeJS.Timeout;
}

export class UpdateQueue {
  /** getUpdates answered 409 because another poll was open (or a webhook was set). */
  conflicts = 0;
  /** Most getUpdates open at the same moment (must stay 1 with one poller per token). */
  maxConcurrentPolls = 0;
  private updates: Array<Record<string, unknown> & { update_id: number }> = [];
  private nextUpdateId = 500_000;
  private polls = new Set<PendingPoll>();

  constructor(private readonly answer: Answer) {}

  /** Queue an update (update_id assigned when missing); returns its update_id. */
  push(update: Record<string, unknown>): number {
    const u = { ...update, update_id: (update.update_id as number | undefined) ?? this.nextUpdateId++ };
    this.updates.push(u);
    this.flushPolls();
    return u.update_id;
  }

  /** getUpdates requests being held open right now. */
  get openPolls(): number {
    return this.polls.size;
  }

  /** Updates not yet confirmed by an offset. */
  get pending(): number[] {
    return this.updates.map((u) => u.update_id);
  }

  getUpdates(res: ServerResponse, p: Record<string, any>, webhookActive: boolean): void {
    this.maxConcurrentPolls = Math.max(this.maxConcurrentPolls, this.polls.size + 1);
    if (webhookActive) {
      this.conflicts++;
      return this.answer.fail(res, {
        error_code: 409,
        description:
          "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
      });
    }
    if (this.polls.size > 0) {
      this.conflicts++;
      return this.answer.fail(res, {
        error_code: 409,
        description:
          'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running',
      });
    }
    const offset = typeof p.offset === 'number' ? p.offset : 0;
    // An offset confirms every update below it: Telegram forgets them.
    this.updates = this.updates.filter((u) => u.update_id >= offset);
    const timeoutS = typeof p.timeout === 'number' ? p.timeout : 0;
    if (this.updates.length || timeoutS <= 0) return this.answer.ok(res, this.updates.slice(0, 100));
    const poll: PendingPoll = {
      res,
      offset,
      timer: setTimeout(() => {
        this.polls.delete(poll);
        this.answer.ok(res, []);
      }, timeoutS * 1000),
    };
    this.polls.add(poll);
    // The client gave up (aborted fetch): the poll is no longer open.
    res.on('close', () => {
      clearTimeout(poll.timer);
      this.polls.delete(poll);
    });
  }

  /** Answer no held poll any more (the server is closing). */
  close(): void {
    for (const p of this.polls) clearTimeout(p.timer);
    this.polls.clear();
  }

  private flushPolls(): void {
    for (const poll of this.polls) {
      const ready = this.updates.filter((u) => u.update_id >= poll.offset);
      if (!ready.length) continue;
      clearTimeout(poll.timer);
      this.polls.delete(poll);
      this.answer.ok(poll.res, ready.slice(0, 100));
    }
  }
}
