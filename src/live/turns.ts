/**
 * The worker's side of live replies and /stop. It wraps the agent runtime, so the turn code only passes its
 * context: a run streams its text to the conversation's live channel and to a platform preview, where the channel
 * shows one, but only while someone can see it (a preview, or a watcher subscribed to the channel when the turn
 * starts); an unseen run is not streamed at all. Every run registers an abort that /stop (or the API's
 * runs/cancel) fires from any gateway through the stop channel. A stopped run returns what it showed so far,
 * marked as stopped, and the turn commits that.
 */
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Logger } from 'pino';
import type { AgentRuntime, DeltaSink, RunOptions, TurnOutput } from '../agent/runtime.js';
import type { TurnContext } from '../core/module.js';
import type { Keys } from '../queue/keys.js';
import { safeErr } from '../observability/logger.js';
import type { LiveEvent } from './events.js';
import { runScript } from '../core/scripts.js';
import { DeltaBatch } from './delta-batch.js';

/** Bounds a marker a killed worker left behind: /stop then answers "stopping" for a turn nobody runs. */
const RUNNING_TTL_MS = 10 * 60_000;
/** How long an unwatched turn's live text waits between publishes (src/live/delta-batch.ts). */
const UNWATCHED_PUBLISH_MS = 250;

/** A preview on the conversation's platform for one turn (src/live/preview.ts): fed the same text. */
export interface TurnPreview extends DeltaSink {
  /** The model is done: flush what is pending. The outbox finalises the preview with the committed reply. */
  end(stopped: boolean): Promise<void>;
}

export interface LiveTurnsOptions {
  redis: Redis;
  keys: Keys;
  log: Logger;
  /** A platform preview for this turn, or undefined where the channel shows none (off, unsupported, API). */
  preview?(ctx: TurnContext): TurnPreview | undefined;
}

/** An event without what the publisher adds (distributes over the union, keeping each type's fields). */
type Body<E> = E extends LiveEvent ? Omit<E, 'turnId' | 'eventIds' | 'seq'> : never;
type LiveBody = Body<LiveEvent>;

export class StopRequested extends Error {
  override name = 'StopRequested';
}

export class LiveTurns {
  private readonly running = new Map<string, { controller: AbortController; eventIds: string[] }>();
  private sub: Redis | undefined;
  private publishFailed = false;

  constructor(private readonly o: LiveTurnsOptions) {}

  /** `sub` must be a dedicated connection: it enters subscriber mode. */
  async start(sub: Redis): Promise<void> {
    this.sub = sub;
    sub.on('message', (_ch: string, raw: string) => {
      const req = parseStop(raw);
      const turn = req && this.running.get(req.conversationKey);
      // An API run's cancel names its event: a turn that does not answer it (the next run's) is left alone.
      if (turn && (!req.eventId || turn.eventIds.includes(req.eventId))) {
        turn.controller.abort(new StopRequested('stopped by the user'));
      }
    });
    await sub.subscribe(this.o.keys.liveStop);
  }

  async stop(): Promise<void> {
    await this.sub?.quit().catch(() => undefined);
    this.sub = undefined;
  }

  wrap(runtime: AgentRuntime): AgentRuntime {
    return {
      modelName: runtime.modelName,
      offline: runtime.offline,
      run: (input, session, ctx, options = {}) => this.live(ctx, options, (o) => runtime.run(input, session, ctx, o)),
      // A resumed run (an approval's decision) streams and stops like any turn; its preview is the prompt itself.
      resume: (state, approve, ctx, options = {}) =>
        this.live(ctx, options, (o) => runtime.resume(state, approve, ctx, o)),
    };
  }

  /** One model run of a turn, live: its text published and previewed, and /stop able to reach it. */
  private async live(
    ctx: TurnContext,
    options: RunOptions,
    go: (options: RunOptions) => Promise<TurnOutput>,
  ): Promise<TurnOutput> {
    const conv = ctx.conversationKey;
    const controller = new AbortController();
    const eventIds = ctx.events.map((e) => e.id);
    const entry = { controller, eventIds };
    this.running.set(conv, entry);
    const { redis, keys } = this.o;
    const channel = keys.live(conv);
    // A marker still there is an attempt that died mid-stream (its worker was killed): see `reset` below. The same
    // round trip counts who watches: a watcher subscribes before its message is submitted (src/api/live-text.ts).
    // Unanswered (Redis slow past the command timeout, or away): count a watcher. Streaming a turn nobody sees
    // costs CPU; not streaming one somebody waits on leaves the web chat blank until the whole answer is in.
    const [previous, watchers] = await redis
      .pipeline()
      .set(keys.liveRunning(conv), ctx.turnId, 'PX', RUNNING_TTL_MS, 'GET')
      .call('PUBSUB', 'NUMSUB', channel)
      .exec()
      .then((r): [string | null, number] => {
        const [marker, numsub] = r ?? []; // each [error, reply]: one can fail alone (PUBSUB refused)
        const previous = marker && !marker[0] ? ((marker[1] as string | null) ?? null) : null;
        return [previous, numsub && !numsub[0] ? Number((numsub[1] as [string, number])[1] ?? 0) : 1];
      })
      .catch((): [null, number] => [null, 1]);
    const preview = this.safePreview(ctx);
    // Nobody sees this turn's text live: the run is not streamed at all (half a turn's CPU with a real provider).
    const view = preview || watchers ? this.view(ctx, channel, eventIds, previous, preview, watchers > 0) : undefined;
    const stop = options.stop ? AbortSignal.any([options.stop, controller.signal]) : controller.signal;
    try {
      return await go({ ...options, stop, sink: view?.sink });
    } finally {
      await view?.end(controller.signal.aborted);
      if (this.running.get(conv) === entry) this.running.delete(conv);
      await runScript(redis, 'delete-if-equals', [keys.liveRunning(conv)], [ctx.turnId]).catch(() => undefined);
    }
  }

  /** Where a watched turn's text goes: published to the conversation's live channel and fed to its preview. */
  private view(
    ctx: TurnContext,
    channel: string,
    eventIds: string[],
    previous: string | null,
    preview: TurnPreview | undefined,
    watched: boolean,
  ): { sink: DeltaSink; end(stopped: boolean): Promise<void> } {
    let seq = 0;
    const publish = (e: LiveBody): Promise<number> =>
      this.o.redis.publish(channel, JSON.stringify({ ...e, turnId: ctx.turnId, eventIds, seq: seq++ })).catch((err) => {
        const why = 'live text not published (previews only; the reply is unaffected)';
        if (!this.publishFailed) this.o.log.warn({ err: safeErr(err) }, why);
        this.publishFailed = true;
        return 0;
      });
    // What the dead attempt streamed is void: watchers (local stream, web chat, agent API) start over. Platform
    // previews need no word: this attempt takes the orphan preview over (src/live/preview.ts).
    if (previous && previous !== ctx.turnId) void publish({ type: 'reset' });
    const deltas = new DeltaBatch((text) => publish({ type: 'delta', text }), UNWATCHED_PUBLISH_MS, watched);
    const sink: DeltaSink = {
      delta: (text) => {
        deltas.push(text);
        preview?.delta(text);
      },
      reset: () => {
        deltas.discard();
        if (seq > 0) void publish({ type: 'reset' });
        preview?.reset();
      },
    };
    const end = async (stopped: boolean) => {
      deltas.close();
      void publish({ type: 'end', stopped });
      const warn = (err: Error) => this.o.log.warn({ err: safeErr(err) }, 'live preview end failed');
      await preview?.end(stopped).catch(warn);
    };
    return { sink, end };
  }

  private safePreview(ctx: TurnContext): TurnPreview | undefined {
    try {
      return this.o.preview?.(ctx);
    } catch (err) {
      this.o.log.warn({ err: safeErr(err as Error) }, 'live preview not started');
      return undefined;
    }
  }
}

const stopSchema = z.object({ conversationKey: z.string(), eventId: z.string().optional() });

function parseStop(raw: string): z.infer<typeof stopSchema> | null {
  try {
    const r = stopSchema.safeParse(JSON.parse(raw));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}

/**
 * Asks whichever worker runs this conversation's turn to stop it (only if that turn answers `eventId`, when
 * given). False when no turn is known to run there. The abort reaches the model call at once (the Agents SDK run's
 * AbortSignal); the turn then commits what was said so far.
 */
export async function requestStop(
  redis: Redis,
  keys: Keys,
  conversationKey: string,
  eventId?: string,
): Promise<boolean> {
  const running = (await redis.exists(keys.liveRunning(conversationKey))) > 0;
  // Sent even without the marker: its write can fail while the turn runs on (Redis slow past the command timeout
  // as the turn started), and a stop for a turn nobody runs is one ignored message.
  await redis.publish(keys.liveStop, JSON.stringify({ conversationKey, eventId }));
  return running;
}
