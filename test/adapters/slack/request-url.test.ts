/**
 * Slack's single Request URL on the real gateway over loopback HTTP: Bolt-style apps point events, slash commands
 * and interactivity at `/slack/events`. Signed requests built from fixtures go in; what a Slack user would notice
 * comes out: the answer at the command's response_url (the fake Slack), a click reaching the block_actions
 * handler, acks within Slack's 3 s, forgeries refused, and nothing the user typed in the logs.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BlockActions, BlockActionsContext, SlackAdapter } from '../../../adapters/slack/index.js';
import { FakeSlack } from '../../fakes/slack/fake-slack.js';
import { BOT, capturingLogger, fixtureText, postSigned, signedHeaders } from '../../fakes/slack/requests.js';
import { startTestApp, type TestApp } from '../../helpers/app.js';

const SECRET = 'request-url-signing-secret';
const FORM = 'application/x-www-form-urlencoded';
/** Slack shows the user an error (and retries events) when an answer takes longer. */
const SLACK_ACK_DEADLINE_MS = 3_000;

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../fixtures/slack/${name}`, import.meta.url), 'utf8')) as Record<string, any>;

let fake: FakeSlack;
let app: TestApp;
let slack: SlackAdapter;
const { log, lines } = capturingLogger();

beforeAll(async () => {
  fake = await new FakeSlack({ botUserId: BOT }).start();
  app = await startTestApp({
    log,
    env: {
      SLACK_BOT_TOKEN: 'xoxb-request-url',
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_API_URL: fake.apiUrl,
      SLACK_BOT_USER_ID: BOT,
    },
  });
  slack = app.adapters.get('slack') as SlackAdapter;
});

afterEach(() => slack.onBlockActions?.(undefined)); // `?.`: this file also runs against adapters without the seam

afterAll(async () => {
  await app?.close();
  await fake?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const responsesFor = (id: string) => fake.responses.filter((r) => r.id === id);

/** `/agent <text>` as Slack posts it, its response_url pointed at the fake. */
function agentCommand(text: string) {
  const form = new URLSearchParams(fixtureText('slash_command.txt'));
  const responseId = randomUUID();
  form.set('command', '/agent');
  form.set('text', text);
  form.set('response_url', fake.responseUrl(responseId));
  form.set('trigger_id', `${Date.now()}.${randomUUID()}`);
  return { body: form.toString(), responseId };
}

/** An interactivity request: the payload JSON in a `payload` form field, as Slack sends it. */
function interaction(payload: Record<string, unknown>): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

function click(value = 'request-42') {
  const responseId = randomUUID();
  const p = fixture('block_actions.json');
  p.trigger_id = `${Date.now()}.${randomUUID()}`;
  p.response_url = fake.responseUrl(responseId);
  p.actions[0].value = value;
  return { payload: p, body: interaction(p), responseId };
}

/** Registers a block_actions handler that records what it got and answers through response_url. */
function recordClicks() {
  const got: Array<{ payload: BlockActions; ctx: BlockActionsContext }> = [];
  slack.onBlockActions(async (payload, ctx) => {
    got.push({ payload, ctx });
    await ctx.respond({ text: `Approved ${payload.actions[0]!.action_id}` });
  });
  return got;
}

describe('slash commands at the Request URL', () => {
  it('/agent help POSTed to /slack/events: empty 200 within 3 s, then the help answer at response_url', async () => {
    const { body, responseId } = agentCommand('help');
    const ack = await postSigned(`${app.url}/slack/events`, SECRET, body, { contentType: FORM });
    expect(ack.status).toBe(200);
    expect(ack.body).toBe('');
    expect(ack.ms).toBeLessThan(SLACK_ACK_DEADLINE_MS);
    const [answer] = await fake.waitFor(() => responsesFor(responseId).length > 0 && responsesFor(responseId), 20_000);
    expect(answer!.body).toMatchObject({ response_type: 'ephemeral' });
    expect(String(answer!.body.text)).toContain('List the commands you can use');
  });

  it('the /slack/commands alias still answers', async () => {
    const { body, responseId } = agentCommand('help');
    const ack = await postSigned(`${app.url}/slack/commands`, SECRET, body, { contentType: FORM });
    expect([ack.status, ack.body]).toEqual([200, '']);
    const [answer] = await fake.waitFor(() => responsesFor(responseId).length > 0 && responsesFor(responseId), 20_000);
    expect(String(answer!.body.text)).toContain('List the commands you can use');
  });

  it('a redelivered command (x-slack-retry-num) is answered once', async () => {
    const { body, responseId } = agentCommand('help');
    expect((await postSigned(`${app.url}/slack/events`, SECRET, body, { contentType: FORM })).status).toBe(200);
    expect((await postSigned(`${app.url}/slack/events`, SECRET, body, { contentType: FORM, retryNum: 1 })).status).toBe(
      200,
    );
    await fake.waitFor(() => responsesFor(responseId).length > 0, 20_000);
    await sleep(500);
    expect(responsesFor(responseId)).toHaveLength(1);
  });

  it('a forged or unsigned command gets 401 and no answer', async () => {
    const { body, responseId } = agentCommand('help');
    const forged = signedHeaders('not-the-secret', body, { contentType: FORM });
    expect((await postSigned(`${app.url}/slack/events`, SECRET, body, { headers: forged })).status).toBe(401);
    expect(
      (await postSigned(`${app.url}/slack/events`, SECRET, body, { headers: { 'content-type': FORM } })).status,
    ).toBe(401);
    await sleep(500);
    expect(responsesFor(responseId)).toHaveLength(0);
  });
});

describe('interactivity at the Request URL', () => {
  it('a button click POSTed to /slack/events is acked within 3 s and reaches the block_actions handler once', async () => {
    const got = recordClicks();
    const { body, responseId } = click();
    const ack = await postSigned(`${app.url}/slack/events`, SECRET, body, { contentType: FORM });
    expect([ack.status, ack.body]).toEqual([200, '']);
    expect(ack.ms).toBeLessThan(SLACK_ACK_DEADLINE_MS);
    const [answer] = await fake.waitFor(() => responsesFor(responseId).length > 0 && responsesFor(responseId), 20_000);
    expect(answer!.body).toMatchObject({
      response_type: 'ephemeral',
      text: 'Approved approve_request',
      replace_original: false,
    });
    expect(got).toHaveLength(1);
    expect(got[0]!.ctx).toMatchObject({ team: 'T123ABC456', user: 'U2147483697' });
    expect(got[0]!.payload.actions[0]).toMatchObject({ action_id: 'approve_request', value: 'request-42' });

    // Slack's redelivery of the same click, and the same click at the alias: handled once.
    expect((await postSigned(`${app.url}/slack/events`, SECRET, body, { contentType: FORM, retryNum: 1 })).status).toBe(
      200,
    );
    expect((await postSigned(`${app.url}/slack/commands`, SECRET, body, { contentType: FORM })).status).toBe(200);
    await sleep(500);
    expect(got).toHaveLength(1);
    expect(responsesFor(responseId)).toHaveLength(1);
  });

  it('a forged click gets 401 and never reaches the handler', async () => {
    const got = recordClicks();
    const { body } = click();
    const forged = signedHeaders('not-the-secret', body, { contentType: FORM });
    expect((await postSigned(`${app.url}/slack/events`, SECRET, body, { headers: forged })).status).toBe(401);
    const stale = signedHeaders(SECRET, body, { contentType: FORM, timestamp: Math.floor(Date.now() / 1000) - 600 });
    expect((await postSigned(`${app.url}/slack/events`, SECRET, body, { headers: stale })).status).toBe(401);
    await sleep(300);
    expect(got).toHaveLength(0);
  });

  it('modal submissions, shortcuts, option requests and unknown kinds are acknowledged at once; nothing the user typed is logged', async () => {
    const cases: Array<[Record<string, unknown>, string | object]> = [
      [fixture('view_submission.json'), ''], // an empty 200 closes the modal
      [fixture('message_action.json'), ''],
      [
        {
          type: 'shortcut',
          callback_id: 'open_agent',
          trigger_id: 'T.1',
          team: { id: 'T123ABC456' },
          user: { id: 'U2147483697' },
        },
        '',
      ],
      [
        {
          type: 'block_suggestion',
          action_id: 'pick',
          value: 'typed in a menu',
          team: { id: 'T123ABC456' },
          user: { id: 'U2147483697' },
        },
        { options: [] },
      ],
      [
        {
          type: 'some_future_kind',
          team: { id: 'T123ABC456' },
          user: { id: 'U2147483697' },
          text: 'future user words',
        },
        '',
      ],
    ];
    for (const [payload, expected] of cases) {
      const ack = await postSigned(`${app.url}/slack/events`, SECRET, interaction(payload), { contentType: FORM });
      expect(ack.status, String(payload.type)).toBe(200);
      expect(ack.ms).toBeLessThan(SLACK_ACK_DEADLINE_MS);
      expect(typeof expected === 'string' ? ack.body : JSON.parse(ack.body)).toEqual(expected);
    }
    // A click with no handler registered is acknowledged too.
    const { body: clickBody } = click('a value the user picked');
    expect((await postSigned(`${app.url}/slack/events`, SECRET, clickBody, { contentType: FORM })).status).toBe(200);

    await fake.waitFor(() => lines.some((l) => l.includes('some_future_kind')));
    const unknown = lines.filter((l) => l.includes('some_future_kind'));
    expect(unknown.join('\n')).toContain('slack interaction of unknown type acknowledged and ignored');
    await fake.waitFor(() => lines.some((l) => l.includes('no handler registered')));
    const all = lines.join('\n');
    for (const typed of [
      'my secret feedback text',
      'a message the user shared',
      'typed in a menu',
      'future user words',
      'a value the user picked',
    ]) {
      expect(all).not.toContain(typed);
    }
  });

  it('malformed interactivity and form bodies get 400 and run nothing', async () => {
    const got = recordClicks();
    const noActions = { ...click().payload, actions: [] };
    const bodies = [
      'payload=%7Bnot%20json',
      interaction({ no: 'type' }),
      interaction(noActions),
      'team_id=T1&user_id=U1', // neither a command nor a payload
      'command=%2Fagent&text=help', // a command without its required fields
    ];
    for (const body of bodies) {
      expect((await postSigned(`${app.url}/slack/events`, SECRET, body, { contentType: FORM })).status, body).toBe(400);
    }
    await sleep(300);
    expect(got).toHaveLength(0);
  });

  it("Slack's ssl_check probe is answered 200 without a signature and runs nothing", async () => {
    const got = recordClicks();
    const { payload } = click();
    const probe = `ssl_check=1&token=x&payload=${encodeURIComponent(JSON.stringify(payload))}`;
    const res = await postSigned(`${app.url}/slack/events`, SECRET, probe, { headers: { 'content-type': FORM } });
    expect([res.status, res.body]).toEqual([200, '']);
    await sleep(300);
    expect(got).toHaveLength(0);
  });
});
