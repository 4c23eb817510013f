/**
 * The one contract every channel implements. An adapter owns everything platform-specific: verifying and parsing
 * what the platform sends (webhooks, gateway sockets, long polling), rendering markdown into the platform's dialect
 * within its limits, and sending one part. The pipeline (queue, worker, outbound) never imports an adapter's
 * internals. test/contract/adapter-contract.ts is the suite every adapter must pass.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Attachment, ConversationRef, InboundEvent, Platform, RenderedPart, SendReceipt } from './types.js';

/**
 * What differs per channel, declared by its adapter and read by the pipeline, so no stage behind the adapters names
 * a platform. Absent optional fields mean "no".
 */
export interface AdapterCapabilities {
  /** Replies can be ephemeral (visible only to the invoking user), used for command answers. */
  ephemeral: boolean;
  /** false: only the conversation's own caller writes into it (the agent API), so `/broadcast` leaves it out. */
  broadcasts?: boolean;
  /**
   * Its senders are HTTP clients waiting on the request (the local channel, the agent API): input over the limit
   * is refused at ingress with a 413 they can read. A chat platform's user cannot see a 413: there the message
   * goes on without its text and the turn answers with a polite refusal.
   */
  refusesAtIngress?: boolean;
  /** A delivery is kept an hour by the ids of the messages it answers, for a client retrying `wait: true`. */
  replaysDeliveries?: boolean;
  /**
   * The channel authorises its callers itself (the agent API's key): the DM policy does not apply, and the user
   * ids its clients choose never hold a role from OWNER_USERS / ADMIN_USERS.
   */
  authorisesCallers?: boolean;
}

/** A command as a platform's own command menu lists it (Discord application commands, Telegram's "/" menu). */
export interface PublishedCommand {
  name: string;
  description: string;
  usage?: string;
}

export interface AdapterLimits {
  /** Hard limit of one platform message, in characters; `render` never returns a longer part. */
  maxMessageChars: number;
  /** Pacing: the least time between two sends into the same conversation. */
  minSendIntervalMs: number;
}

export interface ChannelHealth {
  state: 'up' | 'connecting' | 'down' | 'standby' | 'disabled';
  detail?: string;
  /** Sharded connections (Discord): how many shards the bot runs, and those this process holds. */
  shardCount?: number;
  shards?: ShardHealth[];
}

/** One connection shard held by this process, as /readyz shows it. */
export interface ShardHealth {
  id: number;
  state: ChannelHealth['state'];
  detail?: string;
  /** Heartbeat round trip; null until the first heartbeat is acknowledged. */
  latencyMs: number | null;
  /** Sessions resumed since this process took the shard. */
  resumes: number;
  /** Fencing token of this process's lease on the shard. */
  fence?: number | undefined;
}

/** A command typed by a user on any platform (Slack slash command, Discord interaction, Telegram /cmd, local). */
export interface CommandInvocation {
  platform: Platform;
  tenant: string;
  conversation: ConversationRef;
  user: { id: string; name?: string };
  /** Command name without slash or @botname, lower-case. */
  name: string;
  /** Everything after the command name, trimmed. */
  args: string;
  /** Platform id of the invocation, for dedupe (interaction id, trigger id, update id). */
  id: string;
}

export interface CommandResult {
  /** Markdown answer. */
  text: string;
  /** Visible only to the invoking user where the platform allows it (default true for commands). */
  ephemeral: boolean;
}

/** What ingress gives an adapter: the only way an adapter hands work to the pipeline. */
export interface IngressSink {
  /**
   * Durably enqueue an inbound event (deduplicated by `event.id`). Resolves only once the event is safe in the
   * queue, so the adapter may acknowledge the platform afterwards. Events with `sender.isBot` are accepted here
   * and filtered by policy, so adapters should drop their own bot's messages before calling.
   */
  submit(event: InboundEvent): Promise<'accepted' | 'duplicate'>;
  /** Run a command and return its answer; the adapter posts it back the platform's way. */
  command(invocation: CommandInvocation): Promise<CommandResult>;
  /**
   * Claim a platform id once (interaction ids, slash-command trigger ids): true the first time, false for a
   * redelivery. Backed by Redis so all gateway replicas agree.
   */
  claim(id: string): Promise<boolean>;
  log: Logger;
}

/**
 * Showing an answer while it is written (src/live/preview.ts): one platform message edited in place. The outbox
 * turns it into the reply's first part (an edit, not a second message). Absent: the channel shows no preview.
 * Two variants: a stream that takes appended text (`append`, Slack's chat streaming), and drafts that are never a
 * message of their own (`isDraft`, Telegram's sendMessageDraft): the reply is then posted as usual and replaces it.
 */
export interface LivePreviewOps {
  /** Least time between two updates of one preview (the platform's edit rate limit). */
  minIntervalMs: number;
  /** Least new characters worth an update. */
  minChars: number;
  /** A conversation's own pace where it differs from `minIntervalMs` (Telegram groups vs private chats). */
  intervalFor?(ref: ConversationRef): number;
  /** The preview here is an ephemeral draft: not recorded, not finalised; the committed reply is posted. */
  isDraft?(ref: ConversationRef): boolean;
  /**
   * Starts the preview with `text` and returns its message id. With `append`, `text` is markdown (the platform
   * renders the stream itself); otherwise it is rendered. `recipient` is the user the answer is for.
   * `idempotencyKey` is the same for every attempt of one turn: where the platform can promise it (Discord's
   * nonce), a retried attempt's post returns the message a killed attempt posted instead of a second one.
   */
  post(
    ref: ConversationRef,
    text: string,
    replyTo?: string,
    recipient?: string,
    idempotencyKey?: string,
  ): Promise<string>;
  /** Appends markdown to a stream this process started with `post`; absent: every update is an `edit`. */
  append?(ref: ConversationRef, messageId: string, more: string): Promise<void>;
  /** Replaces the whole text (ending a stream first, where one is open). Idempotent. */
  edit(ref: ConversationRef, messageId: string, text: string): Promise<void>;
  remove(ref: ConversationRef, messageId: string): Promise<void>;
  /** Where the parts after a finalised preview go (a stream in the thread of the answered message). */
  continueIn?(ref: ConversationRef, replyTo?: string): ConversationRef;
  /**
   * For a platform without an idempotency key but with a way to list messages (Slack): the previews this bot
   * started since `since` where a preview answering `replyTo` goes, that no `edit` has settled yet, newest first.
   * A retried attempt takes over the one a worker killed before recording its id. Absent: that window stays open.
   */
  unsettled?(ref: ConversationRef, replyTo: string | undefined, since: Date): Promise<string[]>;
}

/** A user named in a command argument: an id, or a username the platform's mentions carry instead (Telegram). */
export type UserRef = { kind: 'id'; id: string } | { kind: 'username'; username: string };

export interface MentionSyntax {
  /** Syntax only; undefined when `token` is not a user in this platform's forms. */
  parse(token: string): UserRef | undefined;
  /** How to name a user here, for the error message. */
  forms: string;
}

export interface ChannelAdapter {
  readonly platform: Platform;
  readonly capabilities: AdapterCapabilities;
  /** How a command argument names a user on this platform (its mention forms); absent: the plain user id. */
  readonly mentions?: MentionSyntax;
  readonly limits: AdapterLimits;
  /**
   * Register webhook routes. `http` is a scope in which request bodies arrive as raw `Buffer`s (whatever the
   * content type), so signatures can be checked over the exact bytes; adapters parse them with zod afterwards.
   */
  registerRoutes?(http: FastifyInstance, sink: IngressSink): void;
  /** Open long-lived connections (Socket Mode, Discord gateway, Telegram polling). Must not throw on network errors. */
  start?(sink: IngressSink): Promise<void>;
  stop?(): Promise<void>;
  /** Markdown -> platform dialect, split into parts each within `limits.maxMessageChars`. Nothing is dropped. */
  render(markdown: string): string[];
  /**
   * Send one part. Throws `RateLimitedError` (retry the same part later), `PermanentSendError` (the conversation
   * is gone), or anything else (transient; retried with backoff).
   */
  send(ref: ConversationRef, part: RenderedPart): Promise<SendReceipt>;
  /**
   * Find a part posted since `since` by its `idempotencyKey`: a send whose answer a crash lost (the platform may
   * have posted it). Where the platform can say (Slack: message metadata), a retried delivery asks before posting
   * again; absent, the part is sent again (Discord needs none: its nonce makes the repeat return the same message).
   */
  findSent?(ref: ConversationRef, part: RenderedPart, since: Date): Promise<SendReceipt | undefined>;
  /** Pacing for one conversation when it differs from `limits.minSendIntervalMs` (e.g. Telegram groups). */
  paceMs?(ref: ConversationRef): number;
  /** Show that the bot is working; the returned function removes the sign. Best effort, never throws. */
  startTyping?(ref: ConversationRef, replyTo?: string): Promise<() => Promise<void>>;
  health(): ChannelHealth;
  /**
   * Publish the gateway's commands to a platform that keeps a list of its own (replacing the whole list, so
   * running it from every replica, or again, is harmless). Returns how many the platform now lists.
   */
  publishCommands?(commands: PublishedCommand[]): Promise<number>;
  /**
   * Open one of this platform's attachments for download at turn time, with the platform's auth, from its own file
   * hosts only (src/attachments/download.ts `fetchFromHosts`). Absent: only `data:` URLs and ATTACHMENT_URL_HOSTS.
   */
  fetchAttachment?(attachment: Attachment, from: { tenant: string; signal: AbortSignal }): Promise<Response>;
  /** Live previews of answers being written; see LivePreviewOps. */
  preview?: LivePreviewOps;
  /**
   * Approval prompts: `send` shows Approve / Reject buttons on a part carrying `approvalId`, and `replace` swaps a
   * sent prompt (buttons removed) for the answer. Absent: the prompt names the `/approve` and `/reject` commands.
   */
  approvals?: ApprovalOps;
}

export interface ApprovalOps {
  /**
   * A prompt's message takes new text: its answer (buttons removed), or, with `approvalId`, the next prompt of the
   * same run (that approval's buttons in place of the old ones).
   */
  replace(ref: ConversationRef, messageId: string, text: string, approvalId?: string): Promise<void>;
}

/** What a button carries, on every platform: `ap:<y|n>:<approvalId>` (fits Telegram's 64-byte callback data). */
export function approvalButtonData(approvalId: string, approve: boolean): string {
  return `ap:${approve ? 'y' : 'n'}:${approvalId}`;
}

export function parseApprovalButton(data: string): { id: string; approve: boolean } | undefined {
  const m = /^ap:([yn]):([A-Za-z0-9_-]{1,60})$/.exec(data);
  return m ? { id: m[2]!, approve: m[1] === 'y' } : undefined;
}

/** The command a click becomes (src/approvals registers `approve` / `reject`): every platform checks it the same way. */
export function approvalInvocation(
  data: { id: string; approve: boolean },
  base: Omit<CommandInvocation, 'name' | 'args'>,
): CommandInvocation {
  return { ...base, name: data.approve ? 'approve' : 'reject', args: data.id };
}
