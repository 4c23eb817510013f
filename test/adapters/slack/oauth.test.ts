/**
 * Slack workspaces installed through the OAuth flow, on the REAL app against the loopback fake Slack: a browser
 * walks /slack/install -> Slack's authorize page -> /slack/oauth_redirect (the real @slack/oauth InstallProvider,
 * the real WebClient for oauth.v2.access), then the new workspace's first message is answered with its own token;
 * the deployment's SLACK_BOT_TOKEN keeps answering its own workspace; a forged state installs nothing; uninstall
 * and a revoked bot token remove the installation.
 */
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeSlack } from '../../fakes/slack/fake-slack.js';
import { dmMessage, envelope, nextSlackTs, postSigned, TEAM } from '../../fakes/slack/requests.js';
import { startTestApp, type TestApp } from '../../helpers/app.js';
import { waitFor } from '../../helpers/wait.js';

const SECRET = 'oauth-signing-secret-0123';
const ENV_TOKEN = 'xoxb-env-single-workspace';
const CLIENT = { clientId: '111.222', clientSecret: 'fake-client-secret-abc' };
const KEY = 'ab'.repeat(32);
const WS1 = { teamId: 'TNEW00001', botUserId: 'UNEWBOT01', botId: 'BNEWBOT01', token: 'xoxb-installed-one' };
const WS2 = { teamId: 'TNEW00002', botUserId: 'UNEWBOT02', botId: 'BNEWBOT02', token: 'xoxb-installed-two' };
const WS3 = { teamId: 'TNEW00003', botUserId: 'UNEWBOT03', botId: 'BNEWBOT03', token: 'xoxb-installed-three' };

let fake: FakeSlack;
let app: TestApp;
let sql: postgres.Sql;

beforeAll(async () => {
  fake = await new FakeSlack({ teamId: TEAM, botUserId: 'UBOT0001' }).start();
  for (const ws of [WS1, WS2, WS3]) fake.addWorkspace(ws);
  app = await startTestApp({
    env: {
      SLACK_BOT_TOKEN: ENV_TOKEN,
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_API_URL: fake.apiUrl,
      SLACK_CLIENT_ID: CLIENT.clientId,
      SLACK_CLIENT_SECRET: CLIENT.clientSecret,
      SLACK_STATE_SECRET: 'state-secret-state-secret-state-secret',
      SLACK_TOKEN_ENCRYPTION_KEY: KEY,
      SLACK_AUTHORIZE_URL: fake.authorizeUrl,
    },
  });
  fake.oauthApp = { ...CLIENT, redirectUrl: `${app.url}/slack/oauth_redirect` };
  sql = postgres(app.db.url, { max: 2, onnotice: () => undefined });
});

afterAll(async () => {
  await sql?.end();
  await app?.close();
  await fake?.close();
});

const cookieOf = (res: Response) => (res.headers.get('set-cookie') ?? '').split(';')[0]!;

/** A browser going through the flow for `teamId`; returns the final page's status. */
async function install(teamId: string, opts: { cookie?: (real: string) => string } = {}): Promise<number> {
  const start = await fetch(`${app.url}/slack/install`, { redirect: 'manual' });
  expect(start.status).toBe(302);
  const authorize = start.headers.get('location')!;
  expect(authorize.startsWith(fake.authorizeUrl)).toBe(true);
  expect(new URL(authorize).searchParams.get('scope')).toContain('chat:write');
  const cookie = cookieOf(start);
  fake.approveNext(teamId);
  const approved = await fetch(authorize, { redirect: 'manual' });
  expect(approved.status).toBe(302);
  const back = await fetch(approved.headers.get('location')!, {
    redirect: 'manual',
    headers: { cookie: opts.cookie ? opts.cookie(cookie) : cookie },
  });
  await back.text();
  return back.status;
}

const dmFrom = (team: string, channel: string, text: string) =>
  postSigned(`${app.url}/slack/events`, SECRET, {
    ...envelope(dmMessage({ channel, user: 'UHUMAN0001', text, ts: nextSlackTs() })),
    team_id: team,
  });

const lifecycle = (team: string, event: Record<string, unknown>) =>
  postSigned(`${app.url}/slack/events`, SECRET, { ...envelope(event), team_id: team });

const rows = async () =>
  (await sql<{ team_id: string; sealed: string }[]>`select team_id, sealed from slack_installations`).map((r) => r);

describe('Slack install flow', () => {
  it('installs a new workspace and answers its first message with its own token', async () => {
    const started = Date.now();
    expect(await install(WS1.teamId)).toBe(200);
    expect((await dmFrom(WS1.teamId, 'DWS1CHAN1', 'hello from a new workspace')).status).toBe(200);
    const [answer] = await waitFor(() => fake.posted('DWS1CHAN1').length > 0 && fake.posted('DWS1CHAN1'), 'answer');
    const ms = Date.now() - started;
    expect(answer!.body.text).toBe('Echo: hello from a new workspace');
    expect(answer!.auth).toBe(`Bearer ${WS1.token}`);
    console.log(`install-to-first-answer: ${ms} ms`);
    // At rest the token is sealed: neither it nor the installation's JSON is readable in the row.
    const [row] = (await rows()).filter((r) => r.team_id === WS1.teamId);
    expect(row!.sealed).not.toContain(WS1.token);
    expect(row!.sealed).not.toContain('xoxb');
  });

  it('keeps answering the deployment workspace with SLACK_BOT_TOKEN alone', async () => {
    expect((await dmFrom(TEAM, 'DENVCHAN1', 'still here')).status).toBe(200);
    const [answer] = await waitFor(() => fake.posted('DENVCHAN1').length > 0 && fake.posted('DENVCHAN1'), 'answer');
    expect(answer!.body.text).toBe('Echo: still here');
    expect(answer!.auth).toBe(`Bearer ${ENV_TOKEN}`);
  });

  it('refuses a callback whose state is not this browser’s, and installs nothing', async () => {
    const status = await install(WS3.teamId, { cookie: () => 'slack-app-oauth-state=forged' });
    expect(status).toBe(400);
    expect((await rows()).map((r) => r.team_id)).not.toContain(WS3.teamId);
    // A workspace that never installed is never answered (not even with the deployment's token).
    expect((await dmFrom(WS3.teamId, 'DWS3CHAN1', 'anyone?')).status).toBe(200);
    expect((await dmFrom(TEAM, 'DENVCHAN2', 'sync point')).status).toBe(200);
    await waitFor(() => fake.posted('DENVCHAN2').length > 0, 'the later message answered');
    expect(fake.posted('DWS3CHAN1')).toEqual([]);
  });

  it('removes the installation on app_uninstalled; its next message is not answered', async () => {
    expect((await lifecycle(WS1.teamId, { type: 'app_uninstalled' })).status).toBe(200);
    expect((await rows()).map((r) => r.team_id)).not.toContain(WS1.teamId);
    expect((await dmFrom(WS1.teamId, 'DWS1CHAN2', 'after uninstall')).status).toBe(200);
    expect((await dmFrom(TEAM, 'DENVCHAN3', 'sync point')).status).toBe(200);
    await waitFor(() => fake.posted('DENVCHAN3').length > 0, 'the later message answered');
    expect(fake.posted('DWS1CHAN2')).toEqual([]);
  });

  it('removes the installation when its bot token is revoked (not for user tokens alone)', async () => {
    expect(await install(WS2.teamId)).toBe(200);
    await lifecycle(WS2.teamId, { type: 'tokens_revoked', tokens: { oauth: ['UINSTALLER1'] } });
    expect((await rows()).map((r) => r.team_id)).toContain(WS2.teamId);
    await lifecycle(WS2.teamId, { type: 'tokens_revoked', tokens: { bot: [WS2.botUserId] } });
    expect((await rows()).map((r) => r.team_id)).not.toContain(WS2.teamId);
  });
});
