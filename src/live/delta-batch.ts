/**
 * A turn's live deltas on their way to Redis pub/sub. Most turns have no watcher (nobody holds the conversation's
 * stream, web chat or an agent API stream open), and a real model sends a token at a time: one PUBLISH per token
 * was most of a turn's Redis commands. So deltas go out one publish at a time (text that arrives while one is in
 * flight joins the next), and once a publish reached no subscriber the text waits and goes out together every
 * `quietMs`: a watcher that joins mid-turn sees text within `quietMs`, an unwatched turn costs a few publishes.
 */

/** Publishes one delta's text; resolves to how many subscribers received it (PUBLISH's reply; 0 on failure). */
export type SendDelta = (text: string) => Promise<number>;

export class DeltaBatch {
  private pending = '';
  private inFlight = false;
  private timer: NodeJS.Timeout | undefined;
  private quietUntil = 0;
  private closed = false;

  constructor(
    private readonly send: SendDelta,
    private readonly quietMs: number,
  ) {}

  push(text: string): void {
    if (this.closed || !text) return;
    this.pending += text;
    this.kick();
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

  private kick(): void {
    if (this.closed || this.inFlight || this.timer || !this.pending) return;
    const wait = this.quietUntil - Date.now();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.kick();
      }, wait);
      this.timer.unref();
      return;
    }
    this.inFlight = true;
    void this.send(this.take()).then((receivers) => {
      this.inFlight = false;
      this.quietUntil = receivers > 0 ? 0 : Date.now() + this.quietMs;
      this.kick();
    });
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
