/**
 * A turn's live deltas on their way to Redis pub/sub. A turn streamed for its platform preview often has no
 * watcher (nobody holds the conversation's stream, web chat or an agent API stream open), and a real model sends
 * a token at a time: one PUBLISH per token was most of a turn's Redis commands. So while someone watches (one
 * was subscribed when the turn started, or the last publish reached a subscriber) each delta goes out at once, as
 * written; otherwise the text waits and goes out together every `quietMs`: a watcher that joins mid-turn sees text
 * within `quietMs`, an unwatched turn costs a few publishes. Publishes share one connection, so they arrive in the
 * order they were sent.
 */

/** Publishes one delta's text; resolves to how many subscribers received it (PUBLISH's reply; 0 on failure). */
export type SendDelta = (text: string) => Promise<number>;

export class DeltaBatch {
  private pending = '';
  private watched = true;
  private timer: NodeJS.Timeout | undefined;
  private quietUntil = 0;
  private closed = false;

  /** `watched`: whether anyone watched when the turn started (one is counted before the first publish). */
  constructor(
    private readonly send: SendDelta,
    private readonly quietMs: number,
    watched = true,
  ) {
    this.watched = watched;
    if (!watched) this.quietUntil = Date.now() + quietMs;
  }

  push(text: string): void {
    if (this.closed || !text) return;
    this.pending += text;
    if (this.watched) this.flush();
    else this.schedule();
  }

  /** Text not yet published is void (a reset): dropped, never sent after the reset. */
  discard(): void {
    this.pending = '';
    this.clearTimer();
  }

  /** Before the turn's `end`: what is pending goes out now, ahead of it; nothing is sent after. */
  close(): void {
    this.closed = true;
    this.clearTimer();
    if (this.pending) void this.send(this.take());
  }

  private flush(): void {
    this.clearTimer();
    if (this.closed || !this.pending) return;
    void this.send(this.take()).then((receivers) => {
      if (receivers > 0) {
        this.watched = true;
        this.flush(); // text that waited while nobody watched goes now
        return;
      }
      this.watched = false;
      this.quietUntil = Date.now() + this.quietMs;
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.closed || this.timer || !this.pending) return;
    this.timer = setTimeout(() => this.flush(), Math.max(0, this.quietUntil - Date.now()));
    this.timer.unref();
  }

  private take(): string {
    const text = this.pending;
    this.pending = '';
    return text;
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
