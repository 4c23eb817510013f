/**
 * A server-sent event stream on a hijacked fastify reply. Events carry sequential ids; heartbeats are comment
 * lines (`: heartbeat`, no blank line), which SSE clients ignore, so proxies and clients see traffic while a run works.
 */
import type { FastifyReply } from 'fastify';

export interface SseHeaders {
  contentLocation?: string;
  /** Where to reconnect (the LangGraph SDK resolves it against its apiUrl, i.e. relative to the API prefix). */
  location?: string;
}

export class SseStream {
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private ended = false;
  private readonly onClose: (() => void)[] = [];

  /**
   * @param skipThrough events with ids up to this one were already received (Last-Event-ID on reconnect); the
   * events of a run are a pure function of its final state, so skipping them by number resumes the stream.
   */
  constructor(
    private readonly reply: FastifyReply,
    headers: SseHeaders,
    private readonly skipThrough = 0,
  ) {
    reply.hijack();
    const h: Record<string, string> = {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no', // nginx: do not buffer the stream
    };
    if (headers.contentLocation) h['content-location'] = headers.contentLocation;
    if (headers.location) h.location = headers.location;
    reply.raw.writeHead(200, h);
    reply.raw.flushHeaders();
    reply.raw.on('close', () => {
      this.closed = true;
      this.stopHeartbeat();
      for (const fn of this.onClose) fn();
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Called if the client goes away before `end()`. */
  whenClientGone(fn: () => void): void {
    this.onClose.push(() => {
      if (!this.ended) fn();
    });
  }

  send(event: string, data: unknown): void {
    const id = ++this.seq;
    if (this.closed || id <= this.skipThrough) return;
    this.reply.raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\nid: ${id}\n\n`);
  }

  /**
   * An event without an id (live tokens of a running model): not part of what a reconnect with Last-Event-ID
   * replays, so the numbered events stay a pure function of the run's final state.
   */
  sendLive(event: string, data: unknown): void {
    if (!this.closed) this.reply.raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  heartbeat(everyMs: number): void {
    this.timer = setInterval(() => {
      // A comment line with no blank line after it: a blank line would make the LangGraph SDK's decoder (which
      // keeps the last event id) emit an empty event for every heartbeat. Comment lines alone are valid SSE.
      if (!this.closed) this.reply.raw.write(': heartbeat\n');
    }, everyMs);
  }

  private stopHeartbeat(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  end(): void {
    this.ended = true;
    this.stopHeartbeat();
    if (!this.closed) this.reply.raw.end();
  }
}
