/**
 * The model's real tokens for a streaming run's `messages-tuple` mode: the worker publishes them while the turn
 * runs (src/live), this follows the run's conversation and forwards the deltas of the turn that answers the run.
 * Live chunks carry an id of their own (the message's final id is only known once the turn commits) and no SSE
 * event id (a reconnect replays the numbered events, a pure function of the final state). When the run is final,
 * the stream sends the rest of the answer under the same id, so each id's chunks concatenate to the message.
 */
import type { LiveEvent } from '../live/events.js';
import type { ApiContext } from './context.js';
import { runEventId } from './ids.js';
import type { SseStream } from './sse.js';

export interface LiveText {
  /** Start forwarding to `sse` (events that came earlier are sent first). */
  attach(sse: SseStream, chunk: (id: string, content: string) => unknown): void;
  /** Stop listening; what this stream showed so far, under which id. */
  finish(): { id: string; text: string };
}

/** Subscribes before the run is submitted, so its first tokens are not missed. Undefined where there is no feed. */
export async function followRunText(
  ctx: ApiContext,
  conversationKey: string,
  runId: string,
): Promise<LiveText | undefined> {
  if (!ctx.live?.started) return undefined;
  const eventId = runEventId(runId);
  let segment = 0;
  let id = `run-${runId}`;
  let text = '';
  let expect = 0; // next seq of the turn: a gap (joined mid-turn, a lost message) stops live text for the turn
  let broken = false;
  let turnId: string | null = null;
  let out: ((content: string) => void) | undefined;
  const pending: string[] = [];
  const emit = (content: string) => (out ? out(content) : pending.push(content));
  const unwatch = await ctx.live.watch(conversationKey, (e: LiveEvent) => {
    if (!e.eventIds.includes(eventId) || broken) return;
    if (turnId !== e.turnId) {
      // A retried turn (its worker died) starts over: what was shown belongs to a new id.
      if (turnId !== null) newSegment();
      turnId = e.turnId;
      expect = 0;
    }
    if (e.seq !== expect) {
      broken = true;
      return;
    }
    expect++;
    if (e.type === 'reset') newSegment();
    else if (e.type === 'delta') {
      text += e.text;
      emit(e.text);
    }
  });
  function newSegment(): void {
    segment++;
    id = `run-${runId}-${segment}`;
    text = '';
  }
  let stopped = false;
  return {
    attach(sse, chunk) {
      out = (content) => sse.sendLive('messages', chunk(id, content));
      for (const c of pending.splice(0)) out(c);
    },
    finish() {
      if (!stopped) unwatch();
      stopped = true;
      return { id, text };
    },
  };
}
