/**
 * Test helpers for driving the Slack adapter through its real ingress: the shared fixtures, variants built from
 * them, requests signed the way Slack signs them, and a sink that records what the adapter hands the pipeline.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import type { CommandInvocation, CommandResult, IngressSink } from '../../../src/core/adapter.js';
import type { InboundEvent } from '../../../src/core/types.js';

const FIXTURES = new URL('../../fixtures/slack/', import.meta.url);

export function fixtureText(name: string): string {
  return readFileSync(new URL(name, FIXTURES), 'utf8').trim();
}

export function fixtureJson<T = Record<string, any>>(name: string): T {
  return JSON.parse(fixtureText(name)) as T;
}

/** Slack's v0 signature, computed independently of the adapter's verify.ts. */
export function slackSignature(secret: string, timestamp: number | string, body: string): string {
  return 'v0=' + createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex');
}

export function signedHeaders(
  secret: string,
  body: string,
  opts: { timestamp?: number; contentType?: string; extra?: Record<string, string> } = {},
): Record<string, string> {
  const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000);
  return {
    'content-type': opts.contentType ?? 'application/json',
    'x-slack-request-timestamp': String(timestamp),
    'x-slack-signature': slackSignature(secret, timestamp, body),
    ...opts.extra,
  };
}

export const TEAM = 'T123ABC456';
export const BOT = 'UBOT0001';
export const HUMAN = 'U2147483697';

let nextEventId = 1;

/** An event_callback envelope around `event`, shaped like the shared DM fixture. */
export function envelope(event: Record<string, unknown>, eventId = `EvT${nextEventId++}`): Record<string, unknown> {
  const base = fixtureJson('event_message_im.json');
  return { ...base, event_id: eventId, event };
}

export function channelMessage(fields: Record<string, unknown>): Record<string, unknown> {
  return { type: 'message', channel: 'C0CHAN01', channel_type: 'channel', user: HUMAN, event_ts: fields.ts, ...fields };
}

export function appMention(fields: Record<string, unknown>): Record<string, unknown> {
  return { type: 'app_mention', channel: 'C0CHAN01', user: HUMAN, event_ts: fields.ts, ...fields };
}

export interface RecordingSink extends IngressSink {
  /** Every submit call, duplicates included, with what the sink answered. */
  submissions: Array<{ event: InboundEvent; result: 'accepted' | 'duplicate' }>;
  /** Accepted events only (what would reach the queue). */
  events: InboundEvent[];
  commands: CommandInvocation[];
  claims: string[];
}

export function recordingSink(
  opts: { log?: Logger; command?: (inv: CommandInvocation) => Promise<CommandResult> } = {},
): RecordingSink {
  const seen = new Set<string>();
  const claimed = new Set<string>();
  const sink: RecordingSink = {
    submissions: [],
    events: [],
    commands: [],
    claims: [],
    log: opts.log ?? pino({ level: 'silent' }),
    async submit(event) {
      const result = seen.has(event.id) ? 'duplicate' : 'accepted';
      seen.add(event.id);
      sink.submissions.push({ event, result });
      if (result === 'accepted') sink.events.push(event);
      return result;
    },
    async claim(id) {
      sink.claims.push(id);
      if (claimed.has(id)) return false;
      claimed.add(id);
      return true;
    },
    async command(inv) {
      sink.commands.push(inv);
      return opts.command ? opts.command(inv) : { text: `ran ${inv.name}`, ephemeral: true };
    },
  };
  return sink;
}

/** A pino logger at trace level whose every line is kept, to prove secrets never reach the logs. */
export function capturingLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { log: pino({ level: 'trace' }, stream), lines };
}

/** Slack escapes these three in message text (https://api.slack.com/reference/surfaces/formatting#escaping). */
export function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function dmMessage(fields: Record<string, unknown>): Record<string, unknown> {
  const base = fixtureJson('event_message_im.json').event as Record<string, unknown>;
  return { ...base, event_ts: fields.ts, ...fields };
}

let tsSeq = 0;
/** A fresh Slack message ts (`seconds.micros`), unique within the process. */
export function nextSlackTs(): string {
  return `${Math.floor(Date.now() / 1000)}.${String(++tsSeq).padStart(6, '0')}`;
}

export interface PostResult {
  status: number;
  body: string;
  /** Wall time until Slack would have had its answer. */
  ms: number;
}

/**
 * POST a body to the gateway over real HTTP, signed as Slack signs it (or with `secret` wrong, for forgeries).
 * `retryNum` adds Slack's redelivery headers.
 */
export async function postSigned(
  url: string,
  secret: string,
  payload: unknown,
  opts: { contentType?: string; retryNum?: number; headers?: Record<string, string> } = {},
): Promise<PostResult> {
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const extra: Record<string, string> = opts.retryNum
    ? { 'x-slack-retry-num': String(opts.retryNum), 'x-slack-retry-reason': 'http_timeout' }
    : {};
  const headers = opts.headers ?? signedHeaders(secret, body, { contentType: opts.contentType, extra });
  const started = Date.now();
  const res = await fetch(url, { method: 'POST', headers, body });
  const text = await res.text();
  return { status: res.status, body: text, ms: Date.now() - started };
}
