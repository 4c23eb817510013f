/**
 * Slack's Request URL over HTTP. A Slack app points events, slash commands and interactivity at one URL
 * (`/slack/events`, Bolt's default), so one handler takes all three; `/slack/commands` serves the same handler as
 * an alias for apps configured before. Routing mirrors @slack/bolt's `HTTPModuleFunctions.parseHTTPRequestBody`:
 * a form body (`application/x-www-form-urlencoded`) is interactivity when it has a `payload` field (JSON) and a
 * slash command when it has `command`; any other body is an Events API JSON envelope. As in Bolt, a form
 * `ssl_check=1` (Slack probing a slash command's URL) is answered 200 without a signature and runs nothing.
 *
 * Every other request is verified over the exact bytes received before anything is parsed (401 when forged or
 * stale), then parsed (400 when malformed), then dispatched (ingress.ts, shared with Socket Mode).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { dispatchSlack, type DispatchDeps, type SlackInbound } from './ingress.js';
import { parseJson } from '../../src/ingress/json.js';
import { safeErr } from '../../src/observability/logger.js';
import { verifySlackSignature } from './verify.js';

export function rawBodyOf(req: FastifyRequest): Buffer {
  const b = req.body;
  if (Buffer.isBuffer(b)) return b;
  return Buffer.from(typeof b === 'string' ? b : '');
}

const isForm = (contentType: string | undefined) =>
  (contentType ?? '').split(';')[0]!.trim().toLowerCase() === 'application/x-www-form-urlencoded';

const formFields = (raw: Buffer): Record<string, string> =>
  Object.fromEntries(new URLSearchParams(raw.toString('utf8')));

export type ParsedBody = { ok: true; inbound: SlackInbound } | { ok: false; error: string };

/** Which of the three a verified body is (see the header), or why it is none of them. */
export function parseSlackBody(raw: Buffer, contentType: string | undefined): ParsedBody {
  if (isForm(contentType)) {
    const fields = formFields(raw);
    if (fields.payload !== undefined) {
      try {
        return { ok: true, inbound: { kind: 'interaction', body: parseJson(fields.payload) } };
      } catch {
        return { ok: false, error: 'malformed interaction payload' };
      }
    }
    if (fields.command !== undefined) return { ok: true, inbound: { kind: 'command', body: fields } };
    return { ok: false, error: 'form body is neither a slash command nor an interaction' };
  }
  try {
    return { ok: true, inbound: { kind: 'event', body: parseJson(raw) } };
  } catch {
    return { ok: false, error: 'malformed JSON' };
  }
}

export function slackRequestHandler(deps: DispatchDeps & { signingSecret: string }) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const raw = rawBodyOf(req);
    const contentType = req.headers['content-type'];
    if (isForm(contentType) && formFields(raw).ssl_check === '1') {
      await reply.code(200).send('');
      return;
    }
    const v = verifySlackSignature({ signingSecret: deps.signingSecret, headers: req.headers, rawBody: raw });
    if (!v.ok) {
      deps.log.warn({ reason: v.reason }, 'slack: request signature refused');
      await reply.code(401).send({ error: 'invalid signature' });
      return;
    }
    const parsed = parseSlackBody(raw, contentType);
    if (!parsed.ok) {
      await reply.code(400).send({ error: parsed.error });
      return;
    }
    // Redeliveries need nothing special here: event ids, command triggers and action triggers are deduplicated.
    const retry = req.headers['x-slack-retry-num'];
    if (retry)
      deps.log.debug(
        { retry, reason: req.headers['x-slack-retry-reason'], kind: parsed.inbound.kind },
        'slack: redelivery',
      );
    let res;
    try {
      res = await dispatchSlack(parsed.inbound, deps);
    } catch (err) {
      // Queue or Redis trouble: a 500 makes Slack redeliver later; the details stay in our log, not in the reply.
      deps.log.error({ kind: parsed.inbound.kind, err: safeErr(err) }, 'slack: could not accept request');
      await reply.code(500).send({ error: 'temporarily unavailable' });
      return;
    }
    if (typeof res.body === 'string' || res.body === undefined)
      await reply
        .code(res.status)
        .type('text/plain; charset=utf-8')
        .send(res.body ?? '');
    else await reply.code(res.status).send(res.body);
  };
}
