/**
 * Slash commands, once verified and routed (webhook.ts, socket-mode.ts). Slack gives us 3 s to acknowledge and then a
 * `response_url` valid for 30 minutes / 5 posts, so: claim the trigger id once across replicas, ack 200 with an
 * empty body at once (Slack shows nothing), then run the command and POST the answer to the response_url
 * (ephemeral unless the result says otherwise).
 *
 * The response_url is a capability: whoever holds it can post as the app into that conversation. It is never
 * logged, and it is posted to with plain fetch rather than the WebClient (whose debug log prints URLs).
 *
 * The app has one slash command of its own (`/agent` in manifest.yaml) rather than one per command, since slash
 * command names are global in a workspace: `/agent help` runs `help`, a bare `/agent` runs `help` too. Any other
 * slash command routed here (`/weather 94070`) runs the command of that name.
 */
import type { Logger } from 'pino';
import type { CommandInvocation, CommandResult, IngressSink } from '../../src/core/adapter.js';
import { renderSlack } from './format.js';
import { safeErr } from '../../src/observability/logger.js';
import { SLACK_RESPONSE_URL_MAX_POSTS } from './limits.js';
import type { SlashCommand } from './schema.js';

const FAILED = 'Sorry, that command failed. Please try again in a moment.';
const UNAVAILABLE = 'Sorry, I cannot take commands right now. Please try again in a moment.';

/** The app's own slash command, as in manifest.yaml. */
export const DEFAULT_APP_COMMAND = '/agent';

/** Command name and arguments: `/agent help me` -> help, "me"; `/weather 94070` -> weather, "94070". */
export function commandParts(cmd: SlashCommand, appCommand = DEFAULT_APP_COMMAND): { name: string; args: string } {
  const text = cmd.text.trim();
  if (cmd.command.toLowerCase() !== appCommand.toLowerCase())
    return { name: cmd.command.slice(1).toLowerCase(), args: text };
  const m = /^\/?(\S+)\s*([\s\S]*)$/.exec(text);
  return m ? { name: m[1]!.toLowerCase(), args: m[2]!.trim() } : { name: 'help', args: '' };
}

export function toInvocation(cmd: SlashCommand, appCommand = DEFAULT_APP_COMMAND): CommandInvocation {
  const dm = cmd.channel_id.startsWith('D');
  const { name, args } = commandParts(cmd, appCommand);
  return {
    platform: 'slack',
    tenant: cmd.team_id,
    conversation: dm
      ? { platform: 'slack', tenant: cmd.team_id, channel: cmd.channel_id, kind: 'dm', user: cmd.user_id }
      : { platform: 'slack', tenant: cmd.team_id, channel: cmd.channel_id, kind: 'group' },
    user: cmd.user_name ? { id: cmd.user_id, name: cmd.user_name } : { id: cmd.user_id },
    name,
    args,
    id: cmd.trigger_id,
  };
}

export const commandClaimKey = (cmd: SlashCommand) => `slack-cmd:${cmd.trigger_id}`;

/** POST one message to a response_url (slash commands, interactivity). Never throws, never logs the URL. */
export async function postResponse(url: string, body: Record<string, unknown>, log: Logger): Promise<boolean> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify(body),
      redirect: 'error',
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) log.warn({ status: res.status }, 'slack: response_url refused the answer');
    return res.ok;
  } catch (err) {
    // Only the message: a fetch error's cause can carry the URL.
    log.warn({ err: safeErr(err) }, 'slack: posting to response_url failed');
    return false;
  }
}

/** Run the command and deliver its answer. Never throws: failures become a short apology or a log line. */
export async function runCommand(
  cmd: SlashCommand,
  sink: IngressSink,
  log: Logger,
  appCommand?: string,
): Promise<void> {
  const inv = toInvocation(cmd, appCommand);
  let result: CommandResult;
  try {
    result = await sink.command(inv);
  } catch (err) {
    log.warn({ command: inv.name, team: inv.tenant, err: safeErr(err) }, 'slack command failed');
    result = { text: FAILED, ephemeral: true };
  }
  let parts: string[];
  try {
    parts = renderSlack(result.text);
  } catch (err) {
    log.warn({ command: inv.name, err: safeErr(err) }, 'slack command: could not render answer');
    parts = [FAILED];
  }
  if (parts.length > SLACK_RESPONSE_URL_MAX_POSTS) {
    // A response_url takes five posts; past that the answer is cut, visibly, rather than failing silently.
    log.warn({ command: inv.name, parts: parts.length }, 'slack command: answer longer than five messages, truncated');
    parts = parts.slice(0, SLACK_RESPONSE_URL_MAX_POSTS);
    parts[parts.length - 1] += '\n\n_(answer truncated)_';
  }
  const response_type = result.ephemeral === false ? 'in_channel' : 'ephemeral';
  for (const text of parts) {
    if (!(await postResponse(cmd.response_url, { response_type, text, replace_original: false }, log))) return;
  }
}

/**
 * Shared by HTTP and Socket Mode. Returns the acknowledgement text: '' (empty ack) normally, a short apology when
 * the claim store is down. The command itself runs after the ack, in the background.
 */
export async function acceptCommand(
  cmd: SlashCommand,
  sink: IngressSink,
  log: Logger,
  appCommand?: string,
): Promise<string> {
  let first: boolean;
  try {
    first = await sink.claim(commandClaimKey(cmd));
  } catch (err) {
    log.error({ err: safeErr(err) }, 'slack command: claim failed');
    return UNAVAILABLE;
  }
  if (!first) {
    log.debug({ team: cmd.team_id }, 'slack command: duplicate trigger ignored');
    return '';
  }
  setImmediate(() => void runCommand(cmd, sink, log, appCommand));
  return '';
}
