/** The turn's context and the small items every kind of turn (a run, a decision, an expiry) builds. */
import type { AgentInputItem } from '@openai/agents';
import type { Logger } from 'pino';
import type { Redis } from 'ioredis';
import type { AgentRuntime } from '../agent/runtime.js';
import type { AttachmentReader } from '../attachments/index.js';
import type { TurnContext, TurnHooks, TurnRead } from '../core/module.js';
import type { AdapterRegistry } from '../core/registry.js';
import type { Db } from '../db/client.js';
import type { Inbox } from '../queue/inbox.js';
import type { Queues } from '../queue/queues.js';
import type { InboundEvent } from '../core/types.js';

export interface TurnDeps {
  db: Db;
  redis: Redis;
  inbox: Inbox;
  queues: Queues;
  runtime: AgentRuntime;
  adapters: AdapterRegistry;
  deliveredChannel: string;
  log: Logger;
  historyLimit: number;
  batchMax: number;
  /** Show the typing sign only for turns slower than this (no flicker on fast answers). */
  typingDelayMs?: number;
  /** Modules' hooks, in order. */
  hooks?: TurnHooks[];
  /** Redis key keeping a batch's model output until its turn commits (src/worker/model-cache.ts); unset: not kept. */
  modelOutputKey?: (batchHash: string) => string;
  /** How long a run stopped for an approval waits for the decision (src/approvals); default 15 minutes. */
  approvalTimeoutMs?: number;
  /** Reads the turn's files (src/attachments); unset: an attachment is only named to the model. */
  attachments?: AttachmentReader;
  /** Whether the model takes image input when the turn's agent does not say (MODEL_ACCEPTS_IMAGES). */
  modelAcceptsImages?: boolean;
  /** Redis key of a turn's traceparent, read by its delivery (src/observability/turn-trace.ts); unset: not kept. */
  turnTraceKey?: (turnId: string) => string;
}

export const APOLOGY = "Sorry, I couldn't answer that just now. Please try again in a moment.";

export function assistantItem(text: string): AgentInputItem {
  return { type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text }] };
}

export const userKeyOf = (e: InboundEvent) => `${e.platform}:${e.tenant}:${e.sender.id}`;

export function turnContext(
  turnId: string,
  conversationKey: string,
  fresh: InboundEvent[],
  sessionId: string | null = null,
): TurnContext {
  const last = fresh.at(-1)!;
  const human = [...fresh].reverse().find((e) => !e.sender.isBot) ?? last;
  return {
    turnId,
    conversationKey,
    sessionId,
    ref: last.conversation,
    events: fresh,
    userKey: userKeyOf(human),
    sender: { id: human.sender.id, name: human.sender.name },
    kind: last.kind,
    now: new Date(),
    instructions: [],
  };
}

const NO_HOOKS: TurnHooks[] = [];
const readsCache = new WeakMap<TurnHooks[], TurnRead[]>();

/** The modules' reads, the same array for the same hooks (the turn's statement is built once for it). */
export function readsOf(hooks: TurnHooks[] = NO_HOOKS): TurnRead[] {
  let reads = readsCache.get(hooks);
  if (!reads) readsCache.set(hooks, (reads = hooks.flatMap((h) => (h.read ? [h.read] : []))));
  return reads;
}

/**
 * The platform's typing sign while `fn` runs, shown only past the typing delay (no flicker on fast answers) and
 * only if no live preview shows the answer by then.
 */
export async function withTyping<T>(
  deps: TurnDeps,
  last: InboundEvent,
  fn: () => Promise<T>,
  previewShown: () => boolean = () => false,
): Promise<T> {
  const adapter = deps.adapters.get(last.platform);
  if (!adapter?.startTyping) return fn();
  let stop: (() => Promise<void>) | undefined;
  let finished = false;
  const timer = setTimeout(() => {
    if (previewShown()) return; // the answer already shows as it is written
    adapter.startTyping!(last.conversation, last.platformMessageId).then(
      (s) => {
        // The turn may have ended while the platform was answering startTyping: stop at once, or it types forever.
        if (finished) void s().catch(() => undefined);
        else stop = s;
      },
      () => undefined,
    );
  }, deps.typingDelayMs ?? 1_500);
  try {
    return await fn();
  } finally {
    finished = true;
    clearTimeout(timer);
    await stop?.().catch(() => undefined);
  }
}
