import { describe, expect, it } from 'vitest';
import { verifySlackSignature } from '../../../adapters/slack/verify.js';
import { fixtureText, slackSignature } from '../../fakes/slack/requests.js';

const secret = '8f742231b10e8888abcd99yyyzzz85a5';
const body = fixtureText('event_message_im.json');
const now = 1_700_000_000_000;
const nowSec = now / 1000;

function check(headers: Record<string, string>, raw: string | Buffer = body) {
  return verifySlackSignature({ signingSecret: secret, headers, rawBody: raw, nowMs: now });
}
const signed = (ts: number, b = body) => ({
  'x-slack-request-timestamp': String(ts),
  'x-slack-signature': slackSignature(secret, ts, b),
});

describe('slack v0 signature', () => {
  it('accepts a correctly signed request, as string or exact bytes', () => {
    expect(check(signed(nowSec))).toEqual({ ok: true });
    expect(check(signed(nowSec), Buffer.from(body, 'utf8'))).toEqual({ ok: true });
  });

  it('accepts small clock skew either way', () => {
    expect(check(signed(nowSec - 299)).ok).toBe(true);
    expect(check(signed(nowSec + 299)).ok).toBe(true);
  });

  it('refuses a forged signature, a tampered body and the wrong secret', () => {
    expect(check({ ...signed(nowSec), 'x-slack-signature': 'v0=' + 'a'.repeat(64) }).ok).toBe(false);
    expect(check(signed(nowSec), body.replace('Hello', 'Hullo')).ok).toBe(false);
    const other = {
      'x-slack-request-timestamp': String(nowSec),
      'x-slack-signature': slackSignature('other-secret', nowSec, body),
    };
    expect(check(other).ok).toBe(false);
  });

  it('refuses everything when no signing secret is configured, even a request signed with the empty key', () => {
    const ts = nowSec;
    const headers = { 'x-slack-request-timestamp': String(ts), 'x-slack-signature': slackSignature('', ts, body) };
    expect(verifySlackSignature({ signingSecret: '', headers, rawBody: body, nowMs: now })).toEqual({
      ok: false,
      reason: 'no signing secret configured',
    });
  });

  it('refuses stale and future timestamps beyond five minutes, even when the signature matches', () => {
    expect(check(signed(nowSec - 301))).toEqual({ ok: false, reason: 'timestamp out of range' });
    expect(check(signed(nowSec + 301))).toEqual({ ok: false, reason: 'timestamp out of range' });
  });

  it('refuses missing or malformed headers', () => {
    expect(check({}).ok).toBe(false);
    expect(check({ 'x-slack-request-timestamp': String(nowSec) }).ok).toBe(false);
    expect(check({ 'x-slack-signature': slackSignature(secret, nowSec, body) }).ok).toBe(false);
    expect(
      check({ ...signed(nowSec), 'x-slack-signature': slackSignature(secret, nowSec, body).replace('v0=', 'v1=') }).ok,
    ).toBe(false);
    expect(check({ ...signed(nowSec), 'x-slack-request-timestamp': `${nowSec}.5` }).ok).toBe(false);
  });
});
