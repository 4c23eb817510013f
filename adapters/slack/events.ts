/**
 * Events API: one envelope -> at most one sink.submit. Reached through the dispatcher (ingress.ts) from the HTTP
 * Request URL and from Socket Mode (whose `events_api` payload is the same envelope), so both apply identical rules.
 *
 * Slack wants an answer within 3 s and retries otherwise (X-Slack-Retry-Num). We answer 200 only after
 * `sink.submit` resolved (the event is durably queued); submit only enqueues, so it is fast. If it throws, the
 * route answers 500 and Slack's retry delivers the same message id again, which the queue deduplicates. A refusal
 * that no retry can change (IngressError 4xx: text over MAX_INPUT_CHARS, an event the pipeline finds invalid) is
 * acknowledged with 200 and logged instead: a 500 would only earn three pointless redeliveries, and Slack disables
 * the event subscriptions of an app that fails too many deliveries.
 */
import type { Logger } from 'pino';
import type { IngressSink } from '../../src/core/adapter.js';
import { IngressError } from '../../src/core/errors.js';
import { parseEventCallback, SlackPayloadError, type ParseContext } from './parse.js';
import { SlackNotInstalledError } from './workspaces.js';
import { envelopeSchema, eventCallbackSchema, urlVerificationSchema } from './schema.js';

export interface EnvelopeDeps {
  sink: IngressSink;
  /** Parse context for a workspace; resolving the bot's identity may need one auth.test call. */
  contextFor(teamId: string): Promise<ParseContext>;
  /** `app_uninstalled`, or the bot token revoked (`tokens_revoked`): forget the workspace. */
  workspaceGone?(teamId: string, reason: string): Promise<void>;
  log: Logger;
}

/** The app lost the workspace: uninstalled, or its bot token revoked (user tokens alone do not count). */
function workspaceLost(event: { type: string; tokens?: unknown }): boolean {
  if (event.type === 'app_uninstalled') return true;
  if (event.type !== 'tokens_revoked') return false;
  const bot = (event.tokens as { bot?: unknown } | undefined)?.bot;
  return Array.isArray(bot) && bot.length > 0;
}

/**
 * What any Slack request is answered with, whatever the transport: 200 with an optional body (a string is sent as
 * text, an object as JSON or as the Socket Mode ack payload), or 400 for something malformed.
 */
export type SlackAck =
  | { status: 200; body?: string | Record<string, unknown> }
  | { status: 400; body: { error: string } };

export const bad = (error: string): SlackAck => ({ status: 400, body: { error } });

/** Ingress refusals that may pass later (throttled, unavailable): answered 500 so Slack redelivers. */
const RETRYABLE_REFUSALS = new Set([429, 503]);

export async function handleEnvelope(json: unknown, deps: EnvelopeDeps): Promise<SlackAck> {
  const env = envelopeSchema.safeParse(json);
  if (!env.success) return bad('not a Slack envelope');

  switch (env.data.type) {
    case 'url_verification': {
      const v = urlVerificationSchema.safeParse(json);
      return v.success
        ? { status: 200, body: { challenge: v.data.challenge } }
        : bad('url_verification without challenge');
    }
    case 'event_callback': {
      const cb = eventCallbackSchema.safeParse(json);
      if (!cb.success) return bad('event_callback does not match schema');
      if (workspaceLost(cb.data.event)) {
        await deps.workspaceGone?.(cb.data.team_id, cb.data.event.type);
        return { status: 200 };
      }
      let outcome;
      try {
        outcome = await parseEventCallback(cb.data, await deps.contextFor(cb.data.team_id));
      } catch (err) {
        if (err instanceof SlackPayloadError) return bad(err.message);
        if (err instanceof SlackNotInstalledError) {
          // Acknowledged: a redelivery would find it no more installed than now.
          deps.log.info(
            { eventId: cb.data.event_id, team: cb.data.team_id },
            'slack event from a workspace not installed',
          );
          return { status: 200 };
        }
        throw err;
      }
      if (outcome.kind === 'ignored') {
        // Types we do not subscribe to show up only after someone changed the app's config: worth an info line.
        const known = cb.data.event.type === 'message' || cb.data.event.type === 'app_mention';
        const fields = {
          eventId: cb.data.event_id,
          team: cb.data.team_id,
          type: cb.data.event.type,
          reason: outcome.reason,
        };
        if (known) deps.log.debug(fields, 'slack event ignored');
        else deps.log.info(fields, 'slack event type not handled, ignored');
        return { status: 200 };
      }
      let result;
      try {
        result = await deps.sink.submit(outcome.event);
      } catch (err) {
        if (!(err instanceof IngressError) || RETRYABLE_REFUSALS.has(err.status)) throw err;
        deps.log.warn(
          { eventId: cb.data.event_id, team: cb.data.team_id, status: err.status, err: err.message },
          'slack event refused; acknowledged so Slack does not redeliver it',
        );
        return { status: 200 };
      }
      deps.log.debug({ eventId: cb.data.event_id, id: outcome.event.id, result }, 'slack event submitted');
      return { status: 200 };
    }
    case 'app_rate_limited':
      // Slack drops events for a workspace that exceeds 30,000 events / hour; nothing to do but notice.
      deps.log.warn(
        { team: (json as { team_id?: unknown }).team_id },
        'slack: app_rate_limited, Slack is dropping events',
      );
      return { status: 200 };
    default:
      deps.log.info({ type: env.data.type }, 'slack envelope type not handled, ignored');
      return { status: 200 };
  }
}
