/**
 * Slack request signing (v0). Every HTTP request from Slack carries
 *   X-Slack-Request-Timestamp: unix seconds
 *   X-Slack-Signature:         "v0=" + hex(HMAC-SHA256(signing secret, "v0:{timestamp}:{raw body}"))
 *
 * Hand-rolled rather than @slack/bolt's `verifySlackRequest`: Bolt only refuses timestamps in the past, so a
 * captured request stamped in the future could be replayed for as long as that future lasts. We refuse skew in
 * either direction, and we hash the exact bytes we received (a Buffer), not a re-decoded string.
 */
import { createHmac } from 'node:crypto';
import { secretsEqual } from '../../src/core/api-key.js';
import { SLACK_SIGNATURE_MAX_SKEW_SECONDS } from './limits.js';

export type HeaderBag = Record<string, string | string[] | undefined>;

export type VerifyResult = { ok: true } | { ok: false; reason: string };

function header(headers: HeaderBag, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export function signSlackRequest(signingSecret: string, timestamp: string | number, rawBody: Buffer | string): string {
  const hmac = createHmac('sha256', signingSecret);
  hmac.update(`v0:${timestamp}:`);
  hmac.update(rawBody);
  return `v0=${hmac.digest('hex')}`;
}

export function verifySlackSignature(opts: {
  signingSecret: string;
  /** Node's lower-cased header names, as Fastify hands them over. */
  headers: HeaderBag;
  rawBody: Buffer | string;
  nowMs?: number;
}): VerifyResult {
  // An empty secret would make every request "signed" with the key "": refuse instead (Socket Mode has no secret).
  if (!opts.signingSecret) return { ok: false, reason: 'no signing secret configured' };
  const ts = header(opts.headers, 'x-slack-request-timestamp');
  const sig = header(opts.headers, 'x-slack-signature');
  if (!ts || !sig) return { ok: false, reason: 'missing signature headers' };
  if (!/^\d{1,12}$/.test(ts)) return { ok: false, reason: 'malformed timestamp' };

  const nowSec = Math.floor((opts.nowMs ?? Date.now()) / 1000);
  if (Math.abs(nowSec - Number(ts)) > SLACK_SIGNATURE_MAX_SKEW_SECONDS)
    return { ok: false, reason: 'timestamp out of range' };

  const m = /^v0=([0-9a-f]{64})$/i.exec(sig.trim());
  if (!m) return { ok: false, reason: 'malformed signature' };

  const expected = Buffer.from(signSlackRequest(opts.signingSecret, ts, opts.rawBody).slice(3), 'hex');
  const given = Buffer.from(m[1]!.toLowerCase(), 'hex');
  if (!secretsEqual(given, expected)) return { ok: false, reason: 'signature mismatch' };
  return { ok: true };
}
