/**
 * Approvals on the agent API, as LangGraph interrupts. A run whose agent calls a `needsApproval` tool ends like a
 * LangGraph run paused at `interrupt()`: run status `success`, thread status `interrupted`, and the pending
 * approval shown as an interrupt (`__interrupt__` in values and updates, `interrupts` / `tasks[].interrupts` in the
 * thread state). `command: {resume: <decision>}` on a new run decides it (src/approvals/decide.ts, the same checks
 * as a platform's button) and that run's answer is the resumed run's.
 */
import type { Db } from '../db/client.js';
import { latestApproval, pendingApproval, type Approval } from '../approvals/store.js';
import { ApiError } from './http.js';

export type Decision = 'approve' | 'reject';
/** What a resume run decides (kept in the run's kwargs). */
export interface Resume {
  approvalId: string;
  decision: Decision;
}

/** LangGraph `Interrupt`: the value says what waits and how to answer it; the id is the approval's. */
export interface LgInterrupt {
  id: string;
  value: {
    type: 'tool_approval';
    tool: string;
    args: unknown;
    approval_id: string;
    expires_at: string;
    description: string;
    allowed_decisions: Decision[];
  };
  when: 'during';
  resumable: true;
}

function parsedArgs(args: string | null): unknown {
  if (!args) return {};
  try {
    return JSON.parse(args);
  } catch {
    return args;
  }
}

export function toInterrupt(a: Approval): LgInterrupt {
  return {
    id: a.id,
    value: {
      type: 'tool_approval',
      tool: a.tool,
      args: parsedArgs(a.args),
      approval_id: a.id,
      expires_at: a.expiresAt.toISOString(),
      description: `Approve or reject running ${a.tool}: resume with command {"resume": {"approved": true}} or {"approved": false}`,
      allowed_decisions: ['approve', 'reject'],
    },
    when: 'during',
    resumable: true,
  };
}

const isLive = (a: Approval | undefined): a is Approval => !!a && a.expiresAt.getTime() > Date.now();

/** The approval the conversation waits for (none once it is decided or past its time). */
export async function waitingApproval(db: Db, conversationKey: string): Promise<Approval | undefined> {
  const a = await pendingApproval(db, conversationKey);
  return isLive(a) ? a : undefined;
}

const YES = ['approve', 'approved', 'accept', 'accepted', 'yes', 'y', 'ok', 'allow', 'true'];
const NO = ['reject', 'rejected', 'deny', 'denied', 'decline', 'ignore', 'no', 'n', 'false'];

/**
 * The decision a `command.resume` carries. Accepted: `true` / `false`; `"approve"` / `"reject"` (and yes/no,
 * accept/deny); `{approved: boolean}`; `{decision | action | type: "approve" | "reject"}` (agent-inbox style
 * `{type: "accept"}` / `{type: "ignore"}` too); a one-element list of any of these.
 */
export function parseDecision(resume: unknown): Decision | undefined {
  if (Array.isArray(resume)) return resume.length === 1 ? parseDecision(resume[0]) : undefined;
  if (typeof resume === 'boolean') return resume ? 'approve' : 'reject';
  if (typeof resume === 'string') {
    const s = resume.trim().toLowerCase();
    return YES.includes(s) ? 'approve' : NO.includes(s) ? 'reject' : undefined;
  }
  if (resume && typeof resume === 'object') {
    const o = resume as Record<string, unknown>;
    if (typeof o.approved === 'boolean') return o.approved ? 'approve' : 'reject';
    for (const k of ['decision', 'action', 'type'] as const) if (typeof o[k] === 'string') return parseDecision(o[k]);
  }
  return undefined;
}

/** The `command` field of a run: only `resume` (there is no graph state to update or node to go to). */
export function resumeDecision(command: unknown): Decision {
  if (!command || typeof command !== 'object' || Array.isArray(command))
    throw new ApiError(422, 'command must be an object: {"resume": {"approved": true}}');
  const c = command as Record<string, unknown>;
  for (const f of ['update', 'goto'])
    if (c[f] !== undefined && c[f] !== null) throw new ApiError(422, `command.${f} is not supported (only resume)`);
  if (c.resume === undefined || c.resume === null)
    throw new ApiError(422, 'command.resume is missing: {"resume": {"approved": true}} or {"approved": false}');
  const d = parseDecision(c.resume);
  if (!d)
    throw new ApiError(
      422,
      'command.resume is not a decision: send {"approved": true|false}, "approve" / "reject", or true / false',
    );
  return d;
}

/** The pending approval a resume on this conversation decides; a clear 409 when there is none to decide. */
export async function approvalToResume(db: Db, conversationKey: string): Promise<Approval> {
  const live = await waitingApproval(db, conversationKey);
  if (live) return live;
  const last = await latestApproval(db, conversationKey);
  if (!last) throw new ApiError(409, 'this thread has no interrupt to resume');
  if (last.status === 'pending' || last.status === 'expired')
    throw new ApiError(
      409,
      `approval ${last.id} (${last.tool}) expired at ${last.expiresAt.toISOString()} without a decision; nothing was done, and it cannot be resumed`,
    );
  throw new ApiError(409, `approval ${last.id} (${last.tool}) was already ${last.status}; there is nothing to resume`);
}

/** The current thread state of a thread waiting for a decision: the agent's task holds the interrupt. */
export function withInterrupt<S extends { next: string[]; tasks: unknown[]; interrupts: unknown[] }>(
  state: S,
  a: Approval | undefined,
): S {
  if (!a) return state;
  const i = toInterrupt(a);
  const task = { id: a.turnId, name: 'agent', path: [], error: null, interrupts: [i], checkpoint: null, state: null };
  return { ...state, next: ['agent'], tasks: [task], interrupts: [i] };
}

/** LangGraph `Thread.interrupts`: by task id (the turn that stopped). */
export function threadInterrupts(a: Approval | undefined): Record<string, LgInterrupt[]> {
  return a ? { [a.turnId]: [toInterrupt(a)] } : {};
}
