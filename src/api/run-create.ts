/**
 * The run-create body (LangGraph `RunCreate*` / Agent Protocol `RunCreateStateful|Stateless`), validated, and
 * turned into a thread plus a `NewRun`. Features the gateway cannot honour are refused with 422 rather than
 * silently ignored (time travel, delayed starts, webhooks, interrupt points). `command.resume` decides the
 * thread's pending approval (interrupts.ts).
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Config } from '../config/env.js';
import type { Db } from '../db/client.js';
import { ApiError, type Caller } from './http.js';
import type { AgentCatalog } from '../agents/catalog.js';
import { ASSISTANT_ID, configuredAgent, isOurAssistant } from './ids.js';
import { parseRunInput } from './messages.js';
import { dataUrlBytes } from '../attachments/download.js';
import type { NewRun, RunRow, Strategy } from './run-model.js';
import { conversationKeyOf, getThread, insertThread, type ThreadRow } from './thread-db.js';
import { approvalToResume, resumeDecision } from './interrupts.js';

export const STREAM_MODES = ['values', 'messages-tuple', 'messages', 'updates', 'custom'] as const;
const record = z.record(z.string(), z.unknown());

export const runCreateBody = z.object({
  assistant_id: z.string().optional().describe('The agent to run: "agent" or its assistant id (the gateway has one)'),
  agent_id: z.string().optional().describe('Agent Protocol name of assistant_id'),
  input: z.unknown().optional().describe('{"messages": [{"role": "user", "content": "..."}]} or a string'),
  messages: z.array(z.unknown()).optional().describe('Agent Protocol: the input messages'),
  metadata: record.nullish(),
  config: z
    .object({
      configurable: record
        .optional()
        .describe('user_id / user_name: who is speaking, within this API key (default "user")'),
    })
    .passthrough()
    .nullish(),
  context: record.nullish(),
  stream_mode: z
    .union([z.string(), z.array(z.string())])
    .optional()
    .describe(`Stream modes: ${STREAM_MODES.join(', ')}`),
  multitask_strategy: z
    .enum(['reject', 'enqueue', 'interrupt', 'rollback'])
    .optional()
    .describe('When the thread is busy; default reject (409)'),
  if_not_exists: z
    .enum(['create', 'reject'])
    .optional()
    .describe('Thread runs: create the thread when missing; default reject (404)'),
  on_completion: z
    .enum(['delete', 'keep'])
    .optional()
    .describe('Stateless runs: delete the temporary thread when done (default delete)'),
  on_disconnect: z
    .enum(['cancel', 'continue'])
    .optional()
    .describe('Streams: cancel the run when the client goes away (default continue)'),
  stream_subgraphs: z.boolean().optional(),
  stream_resumable: z.boolean().optional(),
  durability: z.string().optional(),
  checkpoint_during: z.boolean().optional(),
  command: z
    .unknown()
    .optional()
    .describe(
      'Resume an interrupted thread (a tool waiting for approval): {"resume": {"approved": true}} or {"approved": false}; also "approve" / "reject", true / false',
    ),
  checkpoint: z.unknown().optional().describe('not supported (no time travel)'),
  checkpoint_id: z.string().nullish().describe('not supported (no time travel)'),
  after_seconds: z.number().nullish().describe('not supported'),
  webhook: z.string().nullish().describe('not supported'),
  interrupt_before: z.unknown().optional().describe('not supported'),
  interrupt_after: z.unknown().optional().describe('not supported'),
});
export type RunCreateBody = z.infer<typeof runCreateBody>;

function refuseUnsupported(b: RunCreateBody): void {
  const set = (v: unknown) => v !== undefined && v !== null && v !== 0 && !(Array.isArray(v) && !v.length);
  for (const [field, v] of [
    ['checkpoint', b.checkpoint],
    ['checkpoint_id', b.checkpoint_id],
    ['after_seconds', b.after_seconds],
    ['webhook', b.webhook],
    ['interrupt_before', b.interrupt_before],
    ['interrupt_after', b.interrupt_after],
  ] as const) {
    if (set(v)) throw new ApiError(422, `${field} is not supported by this gateway`);
  }
}

export function streamModes(raw: unknown, fallback: string[] = ['values']): string[] {
  let modes: unknown = raw;
  if (typeof raw === 'string' && raw.startsWith('[')) {
    try {
      modes = JSON.parse(raw);
    } catch {
      throw new ApiError(422, 'stream_mode: not valid JSON');
    }
  }
  const list =
    modes === undefined || modes === null ? fallback : Array.isArray(modes) ? modes.map(String) : [String(modes)];
  for (const m of list)
    if (!(STREAM_MODES as readonly string[]).includes(m))
      throw new ApiError(422, `stream_mode "${m}" is not supported (${STREAM_MODES.join(', ')})`);
  return list.length ? list : fallback;
}

/** Who speaks, as the client names them: unique only within its key, so the event's sender id adds the key (ids.ts). */
function sender(b: RunCreateBody): { id: string; name?: string } {
  const c = (b.config?.configurable ?? {}) as Record<string, unknown>;
  const id = typeof c.user_id === 'string' && c.user_id.trim() ? c.user_id.trim().slice(0, 200) : 'user';
  const name = typeof c.user_name === 'string' && c.user_name.trim() ? c.user_name.trim().slice(0, 200) : undefined;
  return { id, name };
}

export interface PreparedRun {
  thread: ThreadRow;
  run: NewRun;
}

/**
 * Validates the body and resolves the thread: an existing one (or created with if_not_exists=create), or for
 * `threadId === null` a new temporary thread (stateless run).
 */
/** What creating a run reads (a narrow view of the api module's context, which cron firings share). */
export interface RunCreateDeps {
  config: Pick<Config, 'MAX_INPUT_CHARS'> & Partial<Pick<Config, 'ATTACHMENT_MAX_BYTES'>>;
  db: Db;
  /** The configured agents (src/agents): a run may name one as its assistant. */
  agents?: AgentCatalog;
}

export async function prepareRun(
  ctx: RunCreateDeps,
  caller: Caller,
  threadId: string | null,
  b: RunCreateBody,
  opts: { runId?: string; statelessThreadId?: string } = {},
): Promise<PreparedRun> {
  const runId = opts.runId ?? randomUUID();
  refuseUnsupported(b);
  const assistant = b.assistant_id ?? b.agent_id;
  const named = configuredAgent(ctx, assistant);
  if (!named && !isOurAssistant(assistant)) {
    throw new ApiError(
      404,
      `assistant ${assistant} not found (this gateway serves "agent", ${ASSISTANT_ID}, and its agents by name)`,
    );
  }
  const decision = b.command === undefined || b.command === null ? undefined : resumeDecision(b.command);
  const input = decision ? { text: '', attachments: [] } : parseRunInput(b.input, b.messages);
  if (decision && hasInput(b)) throw new ApiError(422, 'a resume takes no input: send command alone');
  if (decision && threadId === null)
    throw new ApiError(409, 'a stateless run has no interrupt to resume: resume on the thread that was interrupted');
  if (input.text.length > ctx.config.MAX_INPUT_CHARS) {
    throw new ApiError(
      413,
      `input too long: ${input.text.length} characters, the limit is ${ctx.config.MAX_INPUT_CHARS}`,
    );
  }
  const cap = ctx.config.ATTACHMENT_MAX_BYTES;
  if (cap && input.attachments.some((a) => a.url.startsWith('data:') && dataUrlBytes(a.url) > cap))
    throw new ApiError(413, `attachment too large: the limit is ${cap} bytes per file`);
  const modes = streamModes(b.stream_mode);
  let thread: ThreadRow | undefined;
  if (threadId === null) {
    const id = opts.statelessThreadId ?? randomUUID();
    thread = (await insertThread(ctx.db, caller.keyId, id, {})) ?? (await getThread(ctx.db, caller.keyId, id));
  } else {
    thread = await getThread(ctx.db, caller.keyId, threadId);
    if (!thread && b.if_not_exists === 'create')
      thread =
        (await insertThread(ctx.db, caller.keyId, threadId, {})) ?? (await getThread(ctx.db, caller.keyId, threadId));
    if (!thread) throw new ApiError(404, `thread ${threadId} not found`);
  }
  const key = conversationKeyOf(thread!);
  const resume = decision ? { approvalId: (await approvalToResume(ctx.db, key)).id, decision } : undefined;
  const strategy: Strategy = b.multitask_strategy ?? 'reject';
  return {
    thread: thread!,
    run: {
      runId,
      assistantId: named ?? ASSISTANT_ID,
      strategy,
      metadata: b.metadata ?? {},
      kwargs: {
        input: input.text,
        attachments: input.attachments,
        sender: sender(b),
        stream_mode: modes,
        on_completion: threadId === null ? (b.on_completion ?? 'delete') : 'keep',
        config: (b.config ?? {}) as Record<string, unknown>,
        ...(resume ? { resume } : {}),
      },
    },
  };
}

function hasInput(b: RunCreateBody): boolean {
  if (b.messages?.length) return true;
  if (b.input === undefined || b.input === null) return false;
  const msgs = (b.input as { messages?: unknown[] }).messages;
  return typeof b.input === 'string' ? b.input.trim() !== '' : Array.isArray(msgs) && msgs.length > 0;
}

/** LangGraph `Run`. */
export function toRun(r: RunRow): Record<string, unknown> {
  const k = r.kwargs as NewRun['kwargs'];
  return {
    run_id: r.runId,
    thread_id: r.threadId,
    assistant_id: r.assistantId,
    created_at: r.createdAt.toISOString(),
    updated_at: r.updatedAt.toISOString(),
    status: r.status,
    metadata: r.metadata,
    multitask_strategy: r.multitaskStrategy,
    kwargs: {
      input: k.resume ? null : { messages: [{ type: 'human', content: k.input }] },
      ...(k.resume ? { command: { resume: { approved: k.resume.decision === 'approve' } } } : {}),
      config: k.config,
      stream_mode: k.stream_mode,
      on_completion: k.on_completion,
    },
    error: r.error ?? undefined,
  };
}

export function runLocation(
  ctx: { config: Pick<Config, 'API_PREFIX'> },
  r: { threadId: string; runId: string },
): string {
  return `${ctx.config.API_PREFIX}/threads/${r.threadId}/runs/${r.runId}`;
}
