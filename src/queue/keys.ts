/** Every Redis key the gateway uses, in one place, under the configured prefix. */
export interface Keys {
  bullPrefix: string;
  seen(eventId: string): string;
  claim(id: string): string;
  inbox(conversationKey: string): string;
  /** Set while a turn job is queued and has not started reading the inbox. */
  turnQueued(conversationKey: string): string;
  /** Set of conversation keys whose inbox is not empty (the sweeper heals lost turn jobs from it). */
  inboxes: string;
  pace(channelKey: string): string;
  /** A reply part the platform accepted (`turnId:index`), marked at once, ahead of its database receipt. */
  sent(part: string): string;
  delivered: string;
  localOut(conversation: string): string;
  /** Pub/sub channel: a local-channel part was appended (payload: its stream key). */
  localSent: string;
  lease(name: string): string;
  /** A batch's model output, kept until its turn commits (src/worker/model-cache.ts). */
  modelOutput(batchHash: string): string;
  /** A conversation's run of permanent turn failures: the inbox head they were for, and how many. */
  turnFailures(conversationKey: string): string;
  /** Hash of dead-lettered events by id (src/worker/deadletter.ts). */
  deadLetters: string;
  /** Pub/sub channel of a conversation's live text while its turn runs (src/live). */
  live(conversationKey: string): string;
  /** Pub/sub channel: stop this conversation's running turn (payload: the conversation key). */
  liveStop: string;
  /** The turn running in a conversation right now (its id), so /stop can say whether anything runs. */
  liveRunning(conversationKey: string): string;
  /** Hash of a conversation's live previews on its platform: turn id -> preview message (src/live/preview.ts). */
  previews(conversationKey: string): string;
}

export function keys(prefix: string): Keys {
  return {
    bullPrefix: `${prefix}:bull`,
    seen: (id) => `${prefix}:seen:${id}`,
    claim: (id) => `${prefix}:claim:${id}`,
    inbox: (c) => `${prefix}:inbox:${c}`,
    turnQueued: (c) => `${prefix}:turnq:${c}`,
    inboxes: `${prefix}:inboxes`,
    pace: (c) => `${prefix}:pace:${c}`,
    sent: (part) => `${prefix}:sent:${part}`,
    delivered: `${prefix}:delivered`,
    localOut: (c) => `${prefix}:local:out:${c}`,
    localSent: `${prefix}:local:sent`,
    lease: (n) => `${prefix}:lease:${n}`,
    modelOutput: (h) => `${prefix}:modelout:${h}`,
    turnFailures: (c) => `${prefix}:tfail:${c}`,
    deadLetters: `${prefix}:deadletters`,
    live: (c) => `${prefix}:live:${c}`,
    liveStop: `${prefix}:livestop`,
    liveRunning: (c) => `${prefix}:liverun:${c}`,
    previews: (c) => `${prefix}:previews:${c}`,
  };
}

export const QUEUE_TURNS = 'turns';
export const QUEUE_OUTBOUND = 'outbound';
