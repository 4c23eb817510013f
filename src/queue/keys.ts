/**
 * Every Redis key and pub/sub channel the gateway uses, and every BullMQ queue name, in one place, under the
 * configured prefix. Nothing else builds key strings: modules take the builders from here, and
 * test/queue/keys.test.ts checks that every key a turn writes matches one of `KEY_SHAPES`.
 */
import { createHash } from 'node:crypto';

/**
 * BullMQ queue names. Convention: one lower-case kebab-case name per module's job kind, all under `Keys.bullPrefix`.
 * Renaming one strands the jobs already in Redis, so these stay as first deployed.
 */
export const QUEUE_NAMES = {
  turns: 'turns',
  outbound: 'outbound',
  memory: 'memory',
  scheduler: 'scheduler',
  apiCrons: 'api-crons',
} as const;
export const QUEUE_TURNS = QUEUE_NAMES.turns;
export const QUEUE_OUTBOUND = QUEUE_NAMES.outbound;

/** Redis keys of the access module. */
export interface AccessKeys {
  pause: string;
  pauseNotice(epoch: string, conversationKey: string): string;
  pairCode(code: string): string;
  pairBy(principal: string): string;
  bucket(principal: string): string;
  /** Message ids already charged to the bucket (so a re-run turn is not charged twice). */
  charged(principal: string): string;
  rateNotice(principal: string): string;
  loop(conversationKey: string, minute: number): string;
  loopMark(conversationKey: string, turnMark: string, minute: number): string;
}

/** Redis keys of the agent API. */
export interface ApiKeys {
  /** Per-key token bucket. */
  rate(keyId: string): string;
  /** Pub/sub channel: a run reached a final state (wakes waiting requests on every gateway). */
  runDone: string;
  /** Lease of the one worker that reconciles cron rows with their job schedulers. */
  cronsLease: string;
}

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
  /** Pub/sub channel: a turn was delivered (src/outbound/notifications.ts). */
  delivered: string;
  localOut(conversation: string): string;
  /** Pub/sub channel: a local-channel part was appended (payload: its stream key). */
  localSent: string;
  /** Pub/sub channel: a platform's added bots changed (payload: the platform; src/installs/admin-routes.ts). */
  botsChanged: string;
  lease(name: string): string;
  /** A conversation's model output for the batch its turn read, kept until that turn commits (src/worker/model-cache.ts). */
  modelOutput(conversationKey: string): string;
  /** A turn's W3C traceparent, for its delivery's spans (only while tracing is on; src/observability/turn-trace.ts). */
  turnTrace(turnId: string): string;
  /** A conversation's run of permanent turn failures: the inbox head they were for, and how many. */
  turnFailures(conversationKey: string): string;
  /** Hash of dead-lettered events by id (src/worker/deadletter.ts). */
  deadLetters: string;
  /** Which conversations a user's memory extraction still has to read (src/memory/jobs/pending.ts). */
  memoryPending(userKey: string): string;
  /** Per-platform next free fan-out slot (scheduler announcement pacing). */
  fanoutPace(platform: string): string;
  access: AccessKeys;
  api: ApiKeys;
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
    botsChanged: `${prefix}:bots:changed`,
    lease: (n) => `${prefix}:lease:${n}`,
    modelOutput: (c) => `${prefix}:modelout:${c}`,
    turnTrace: (t) => `${prefix}:trace:turn:${t}`,
    turnFailures: (c) => `${prefix}:tfail:${c}`,
    deadLetters: `${prefix}:deadletters`,
    memoryPending: (u) => `${prefix}:mem:pending:${u}`,
    fanoutPace: (platform) => `${prefix}:sched:fanout:${platform}`,
    access: accessKeys(prefix),
    api: apiKeys(prefix),
    live: (c) => `${prefix}:live:${c}`,
    liveStop: `${prefix}:livestop`,
    liveRunning: (c) => `${prefix}:liverun:${c}`,
    previews: (c) => `${prefix}:previews:${c}`,
  };
}

export function accessKeys(prefix: string): AccessKeys {
  const p = `${prefix}:access`;
  return {
    pause: `${p}:pause`,
    pauseNotice: (epoch, c) => `${p}:pause-notice:${epoch}:${c}`,
    pairCode: (code) => `${p}:pair:${code}`,
    pairBy: (principal) => `${p}:pair-by:${principal}`,
    bucket: (principal) => `${p}:bucket:${principal}`,
    charged: (principal) => `${p}:charged:${principal}`,
    rateNotice: (principal) => `${p}:rate-notice:${principal}`,
    loop: (c, minute) => `${p}:loop:${c}:${minute}`,
    loopMark: (c, mark, minute) => `${p}:loop-mark:${c}:${minute}:${mark}`,
  };
}

export function apiKeys(prefix: string): ApiKeys {
  return {
    rate: (id) => `${prefix}:api:rate:${id}`,
    runDone: `${prefix}:api:run-done`,
    cronsLease: `${prefix}:lease:api-crons-reconcile`,
  };
}

/** Scheduler module keys (kept as its own builder: the scheduler context holds only these). */
export function schedulerKeys(prefix: string): Pick<Keys, 'fanoutPace'> {
  return { fanoutPace: keys(prefix).fanoutPace };
}

/** A local-channel part's idempotency mark, next to the conversation's stream (`Keys.localOut`). */
export const localSentMarkKey = (streamKey: string, idempotencyKey: string) => `${streamKey}:sent:${idempotencyKey}`;

/** A local-channel delivery kept for retried `wait: true` requests; `channel` is `Keys.delivered`. */
export const recentDeliveryKey = (channel: string, eventId: string) => `${channel}:recent:${eventId}`;

/**
 * Threads the bot takes part in (adapters/kit/thread-tracker.ts takes this as its key function). `scope`, chosen by
 * an adapter, keeps its platform's thread ids apart from another's (Slack's thread keys carry their workspace).
 */
export const threadKey = (prefix: string, thread: string, scope?: string) =>
  scope ? `${prefix}:${scope}:thread:${thread}` : `${prefix}:thread:${thread}`;

/** One holder per bot token (gateway socket, long poller): named after a hash, never the token itself. */
export function platformLeaseKey(prefix: string, platform: string, token: string): string {
  const digest = createHash('sha256').update(token).digest('hex').slice(0, 16);
  return keys(prefix).lease(`${platform}:${digest}`);
}

/** Keys of one set of numbered leases spread over replicas (src/queue/shard-leases.ts), e.g. Discord shards. */
export interface ShardLeaseKeys {
  /** The lease of shard `id` of `count` (a lease key, so the lease shape covers it). */
  lease(id: number, count: number): string;
  /** Counter bumped on every acquisition of shard `id`: the fencing token its holder carries. */
  fence(id: number): string;
  /** Sorted set of live replicas (member: replica id, score: when its presence expires). */
  replicas: string;
  /** Slot a shard takes before it identifies; one per `shard % max_concurrency` bucket. */
  identify(bucket: number): string;
  /** The shard count every replica runs (the first stores it; a change is applied by all). */
  count: string;
}

/** Shard leases of one bot token (hashed, never the token itself). */
export function shardLeaseKeys(prefix: string, platform: string, token: string): ShardLeaseKeys {
  const digest = createHash('sha256').update(token).digest('hex').slice(0, 16);
  const name = `${platform}:${digest}`;
  return {
    lease: (id, count) => keys(prefix).lease(`${name}:shard:${id}-of-${count}`),
    fence: (id) => `${prefix}:shards:${name}:fence:${id}`,
    replicas: `${prefix}:shards:${name}:replicas`,
    identify: (bucket) => `${prefix}:shards:${name}:identify:${bucket}`,
    count: `${prefix}:shards:${name}:count`,
  };
}

/**
 * The shape of every key above, after `<prefix>:` (`*` is one or more characters), taken from the builders
 * themselves. The key test compares what Redis holds after turns against these.
 */
export const KEY_SHAPES: readonly string[] = (() => {
  const P = '\0';
  const k = keys(P);
  const a = k.access;
  const all = [
    `${k.bullPrefix}:*`,
    k.seen('*'),
    k.claim('*'),
    k.inbox('*'),
    k.turnQueued('*'),
    k.inboxes,
    k.pace('*'),
    k.sent('*'),
    recentDeliveryKey(k.delivered, '*'),
    k.localOut('*'),
    localSentMarkKey(k.localOut('*'), '*'),
    k.lease('*'),
    k.modelOutput('*'),
    k.turnTrace('*'),
    k.turnFailures('*'),
    k.deadLetters,
    k.memoryPending('*'),
    k.fanoutPace('*'),
    a.pause,
    a.pauseNotice('*', '*'),
    a.pairCode('*'),
    a.pairBy('*'),
    a.bucket('*'),
    a.charged('*'),
    a.rateNotice('*'),
    a.loop('*', 0).replace(/0$/, '*'),
    a.loopMark('*', '*', 0).replace(/:0:/, ':*:'),
    k.api.rate('*'),
    threadKey(P, '*'),
    threadKey(P, '*', '*'),
    k.liveRunning('*'),
    k.previews('*'),
    shardLeaseKeys(P, '*', '')
      .fence(0)
      .replace(/:[^:]+:fence:0$/, ':*:fence:*'),
    shardLeaseKeys(P, '*', '').replicas.replace(/:[^:]+:replicas$/, ':*:replicas'),
    shardLeaseKeys(P, '*', '')
      .identify(0)
      .replace(/:[^:]+:identify:0$/, ':*:identify:*'),
    shardLeaseKeys(P, '*', '').count.replace(/:[^:]+:count$/, ':*:count'),
  ];
  return [...new Set(all.map((key) => key.slice(P.length + 1)))];
})();

/** True when `key` is one of ours under `prefix` (see KEY_SHAPES). */
export function isOwnedKey(prefix: string, key: string): boolean {
  if (!key.startsWith(`${prefix}:`)) return false;
  const rest = key.slice(prefix.length + 1);
  return KEY_SHAPES.some((shape) => shapeRegex(shape).test(rest));
}

function shapeRegex(shape: string): RegExp {
  const body = shape
    .split('*')
    .map((s) => s.replace(/[.+?^${}()|[\]\\-]/g, '\\$&'))
    .join('.+');
  return new RegExp(`^${body}$`);
}
