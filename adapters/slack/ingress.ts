/**
 * One dispatcher for everything Slack sends an app — Events API envelopes, slash commands, interactivity — whatever
 * the transport. The HTTP Request URL (webhook.ts) and Socket Mode (socket-mode.ts) only unwrap their transport into
 * a `SlackInbound` and turn the `SlackAck` back into a response or a socket ack, so they cannot differ in what they
 * accept, deduplicate, ignore or refuse. A throw means "could not take it now" (queue or Redis trouble): HTTP
 * answers 500 and Socket Mode does not ack, and Slack redelivers.
 */
import { acceptCommand } from './commands.js';
import { bad, handleEnvelope, type EnvelopeDeps, type SlackAck } from './events.js';
import { handleInteraction, type BlockActionsHandler } from './interactions.js';
import { slashCommandSchema } from './schema.js';

export type SlackInbound =
  /** Events API: url_verification, event_callback, app_rate_limited (JSON body, or Socket Mode `events_api`). */
  | { kind: 'event'; body: unknown }
  /** Slash command fields (form body, or Socket Mode `slash_commands`). */
  | { kind: 'command'; body: unknown }
  /** Interactivity payload (the form's `payload` JSON, or Socket Mode `interactive`). */
  | { kind: 'interaction'; body: unknown };

export interface DispatchDeps extends EnvelopeDeps {
  /** The app's own slash command (see commands.ts). */
  appCommand?: string;
  /** The block_actions handler registered now, if any. */
  blockActions?: () => BlockActionsHandler | undefined;
}

export async function dispatchSlack(inbound: SlackInbound, deps: DispatchDeps): Promise<SlackAck> {
  switch (inbound.kind) {
    case 'event':
      return handleEnvelope(inbound.body, deps);
    case 'command': {
      const cmd = slashCommandSchema.safeParse(inbound.body);
      if (!cmd.success) return bad('not a slash command');
      return { status: 200, body: await acceptCommand(cmd.data, deps.sink, deps.log, deps.appCommand) };
    }
    case 'interaction':
      return handleInteraction(inbound.body, deps);
  }
}
