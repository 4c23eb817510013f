/**
 * Interactivity: what users do with the app's UI — buttons and menus (`block_actions`), modal submissions, shortcuts.
 * Slack shows the user an error unless the request is answered 200 within 3 s, so every kind is acknowledged at
 * once and nothing waits for a handler. `block_actions` go to the handler the embedding code registered
 * (`adapter.onBlockActions`), in the background and once per trigger across replicas (Redis claim), so a retry or
 * a replayed request is not handled twice. Other kinds are acknowledged and ignored: the gateway opens no modals
 * and registers no shortcuts, so they arrive only if someone adds them to the app's config. An empty 200 is what
 * Slack expects for all of them (it closes a submitted modal); a menu asking for options gets an empty list.
 *
 * Logged: the kind, the workspace and the action ids (chosen by the blocks' author). Never a value, a view's
 * state, a message or the response_url: those are what the user typed or picked, or a capability to post.
 */
import type { Logger } from 'pino';
import { approvalInvocation, parseApprovalButton, type IngressSink } from '../../src/core/adapter.js';
import { postResponse } from './commands.js';
import { bad, type SlackAck } from './events.js';
import { blockActionsSchema, interactionSchema, type BlockActions } from './schema.js';

export type { BlockActions } from './schema.js';

export interface BlockActionsContext {
  /** The workspace (team id) and the user who acted. */
  team: string;
  user: string;
  /**
   * Answer through the interaction's response_url: ephemeral unless `ephemeral: false`, as a new message unless
   * `replaceOriginal`. False when there is no response_url (actions in a modal) or Slack refused the post.
   */
  respond(message: { text: string; ephemeral?: boolean; replaceOriginal?: boolean }): Promise<boolean>;
  log: Logger;
}

export type BlockActionsHandler = (payload: BlockActions, ctx: BlockActionsContext) => Promise<void>;

export interface InteractionDeps {
  sink: IngressSink;
  log: Logger;
  /** The handler registered now (it may be set after the routes are), or none. */
  blockActions?: () => BlockActionsHandler | undefined;
}

/** Kinds Slack sends that the gateway knows and deliberately leaves alone. */
const UNHANDLED_KINDS = new Set([
  'view_submission',
  'view_closed',
  'shortcut',
  'message_action',
  'interactive_message',
  'dialog_submission',
  'dialog_cancellation',
  'workflow_step_edit',
]);

/** Slack's type strings are short identifiers; cut anything else before it reaches a log line. */
const typeForLog = (type: string) => type.slice(0, 64);

export const actionClaimKey = (p: BlockActions, team: string): string | undefined => {
  const id = p.trigger_id ?? p.actions[0]?.action_ts;
  return id ? `slack-action:${team}:${id}` : undefined;
};

export async function handleInteraction(json: unknown, deps: InteractionDeps): Promise<SlackAck> {
  const kind = interactionSchema.safeParse(json);
  if (!kind.success) return bad('not a Slack interaction payload');
  const type = kind.data.type;
  if (type === 'block_actions') return acceptBlockActions(json, deps);
  if (type === 'block_suggestion') {
    deps.log.debug({ type }, 'slack interaction: options requested, none offered');
    return { status: 200, body: { options: [] } };
  }
  if (UNHANDLED_KINDS.has(type)) deps.log.debug({ type }, 'slack interaction acknowledged, not handled');
  else deps.log.info({ type: typeForLog(type) }, 'slack interaction of unknown type acknowledged and ignored');
  return { status: 200 };
}

async function acceptBlockActions(json: unknown, deps: InteractionDeps): Promise<SlackAck> {
  const parsed = blockActionsSchema.safeParse(json);
  if (!parsed.success) return bad('block_actions does not match schema');
  const p = parsed.data;
  const team = p.team?.id ?? p.user.team_id ?? '';
  const actions = p.actions.map((a) => a.action_id);
  const button = p.actions.map((a) => parseApprovalButton(a.action_id)).find((b) => b !== undefined);
  if (button) return acceptApprovalClick(p, team, button, deps);
  const handler = deps.blockActions?.();
  if (!handler) {
    deps.log.info({ team, actions }, 'slack block_actions: no handler registered, acknowledged');
    return { status: 200 };
  }
  const key = actionClaimKey(p, team);
  // A claim store outage throws: the request is answered 500 (HTTP) or left unacknowledged (Socket Mode), so the
  // user sees Slack's error mark instead of a click that silently did nothing.
  if (key && !(await deps.sink.claim(key))) {
    deps.log.debug({ team, actions }, 'slack block_actions: duplicate trigger ignored');
    return { status: 200 };
  }
  setImmediate(() => void runBlockActions(handler, p, team, actions, deps.log));
  return { status: 200 };
}

/**
 * An Approve / Reject button of the gateway's own prompt: acknowledged at once; the decision command runs in the
 * background (once per trigger) and its answer is shown to the clicker only (ephemeral, through response_url).
 */
async function acceptApprovalClick(
  p: BlockActions,
  team: string,
  button: { id: string; approve: boolean },
  deps: InteractionDeps,
): Promise<SlackAck> {
  const key = actionClaimKey(p, team);
  if (key && !(await deps.sink.claim(key))) return { status: 200 };
  const channel = p.channel?.id ?? '';
  const dm = channel.startsWith('D');
  const invocation = approvalInvocation(button, {
    platform: 'slack',
    tenant: team,
    conversation: {
      platform: 'slack',
      tenant: team,
      channel,
      kind: dm ? 'dm' : 'group',
      ...(dm ? { user: p.user.id } : {}),
    },
    user: { id: p.user.id },
    id: key ?? `slack-action:${team}:${p.user.id}:${button.id}`,
  });
  setImmediate(() => {
    void (async () => {
      try {
        const { text } = await deps.sink.command(invocation);
        if (p.response_url) await postResponse(p.response_url, { response_type: 'ephemeral', text }, deps.log);
      } catch (err) {
        deps.log.warn({ team, err: (err as Error)?.name ?? typeof err }, 'slack approval click failed');
      }
    })();
  });
  return { status: 200 };
}

async function runBlockActions(
  handler: BlockActionsHandler,
  p: BlockActions,
  team: string,
  actions: string[],
  log: Logger,
): Promise<void> {
  const respond: BlockActionsContext['respond'] = async (m) => {
    if (!p.response_url) return false;
    const body = {
      response_type: m.ephemeral === false ? 'in_channel' : 'ephemeral',
      text: m.text,
      replace_original: m.replaceOriginal ?? false,
    };
    return postResponse(p.response_url, body, log);
  };
  try {
    await handler(p, { team, user: p.user.id, respond, log });
  } catch (err) {
    // The error's name only: a handler's message may quote what the user picked or typed.
    log.warn({ team, actions, err: (err as Error)?.name ?? typeof err }, 'slack block_actions handler failed');
  }
}
