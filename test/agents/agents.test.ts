/**
 * Agents as configuration, end to end on the real pipeline (Slack through the real adapter and the fake Slack,
 * the local channel, Redis, Postgres, the offline model): routing by channel and DM, `/agent use`, handoffs
 * recorded per session item, MCP tools over stdio and Streamable HTTP (real servers built with the official MCP
 * SDK), a dead MCP server, and a reload that keeps the old configuration when the new file is bad.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { budgetSpentText } from '../../src/agents/index.js';
import { FakeSlack } from '../fakes/slack/fake-slack.js';
import { startHttpMcpServer, type HttpMcpServer } from '../fakes/mcp/server.js';
import { BOT, appMention, dmMessage, envelope, nextSlackTs, postSigned } from '../fakes/slack/requests.js';
import { lastAi, startApiApp, userInput, type ApiTestApp } from '../api/helpers.js';

const SECRET = 'agents-signing-secret-0123';
const MCP_KEY = 'mcp-key-from-env-42';

let dir: string;
let file: string;
let fake: FakeSlack;
let mcpHttp: HttpMcpServer;
let app: ApiTestApp;
let sql: postgres.Sql;

function agentsYaml(helpdeskInstructions = 'You are helpdesk.'): string {
  const stdio = {
    name: 'local-tools',
    transport: 'stdio',
    command: process.execPath,
    args: ['--import', 'tsx', 'test/fakes/mcp/server.ts'],
    env: { FAKE_MCP_GREETING: 'hello' },
    deny: ['whisper', 'whoami'],
    timeoutMs: 60_000,
  };
  const http = {
    name: 'remote-tools',
    transport: 'http',
    url: mcpHttp.url,
    headersFromEnv: { 'x-api-key': 'AGENTS_TEST_MCP_KEY' },
    allow: ['whoami'],
  };
  // Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
  const dead = { name: 'gone', transport: 'http', url: 'http://127.0.0.1:9/mcp', timeoutMs: 3_000 };
  return JSON.stringify({
    agents: [
      {
        name: 'helpdesk',
        description: helpdeskInstructions.slice(0, -1),
        instructions: helpdeskInstructions,
        handoffs: ['billing'],
      },
      { name: 'concierge', instructions: 'You are concierge.', memory: false },
      { name: 'billing', instructions: 'You are billing.' },
      { name: 'toolsmith', instructions: 'You are toolsmith.', mcpServers: [stdio, http] },
      { name: 'broken', instructions: 'You are broken.', mcpServers: [dead] },
      { name: 'thrifty', instructions: 'You are thrifty.', dailyTokenBudget: 20 },
      {
        name: 'careful',
        instructions: 'You are careful.',
        mcpServers: [{ ...http, name: 'guarded', needsApproval: ['whoami'] }],
      },
    ],
    routes: [
      { platform: 'slack', kind: 'dm', agent: 'concierge' },
      { platform: 'slack', agent: 'helpdesk' },
      { platform: 'local', channel: 'tools', agent: 'toolsmith' },
      { platform: 'local', channel: 'broken', agent: 'broken' },
      { platform: 'local', channel: 'thrifty', agent: 'thrifty' },
      { platform: 'local', channel: 'careful', agent: 'careful' },
    ],
    default: 'concierge',
  }); // JSON is YAML
}

beforeAll(async () => {
  mkdirSync('test-artifacts', { recursive: true });
  dir = mkdtempSync(resolve('test-artifacts', 'agents-'));
  file = resolve(dir, 'agents.yaml');
  process.env.AGENTS_TEST_MCP_KEY = MCP_KEY;
  mcpHttp = await startHttpMcpServer();
  writeFileSync(file, agentsYaml());
  fake = await new FakeSlack({ botUserId: BOT }).start();
  app = await startApiApp({
    AGENTS_FILE: file,
    SLACK_BOT_TOKEN: 'xoxb-agents',
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: fake.apiUrl,
    SLACK_BOT_USER_ID: BOT,
    ADMIN_USERS: 'local:admin',
    RATE_LIMIT_PER_MINUTE: '0',
    MODEL_TIMEOUT_MS: '120000',
  });
  sql = postgres(app.db.url, { max: 2, onnotice: () => undefined });
}, 60_000);

afterAll(async () => {
  delete process.env.AGENTS_TEST_MCP_KEY; // test files share their process
  await sql?.end();
  await app?.close();
  await fake?.close();
  await mcpHttp?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(probe: () => T | Promise<T>, ok: (v: T) => boolean, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (ok(v) || Date.now() > end) return v;
    await sleep(100);
  }
}

/** One local-channel message, answered: the reply texts. */
async function say(conversation: string, text: string, user = 'someone'): Promise<string[]> {
  const res = await app.post('/local/messages', { conversation, user, text, kind: 'group', wait: true });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.replies.map((r: { text: string }) => r.text);
}

const slackEvent = (e: Record<string, unknown>) => postSigned(`${app.url}/slack/events`, SECRET, envelope(e));

describe('routing', () => {
  it('a Slack channel and a Slack DM are answered by different agents', async () => {
    const channel = 'C0AGENTS1';
    await slackEvent(appMention({ channel, ts: nextSlackTs(), text: `<@${BOT}> [[instructions]]` }));
    const dm = { channel: 'D0AGENTS1', user: 'U0AGENTDM', ts: nextSlackTs(), text: '[[instructions]]' };
    await slackEvent(dmMessage(dm));
    const inChannel = await until(
      () => fake.posted(channel),
      (p) => p.length >= 1,
    );
    const inDm = await until(
      () => fake.posted('D0AGENTS1'),
      (p) => p.length >= 1,
    );
    expect(String(inChannel[0]!.body.text)).toContain('You are helpdesk.');
    expect(String(inDm[0]!.body.text)).toContain('You are concierge.');
    expect(String(inDm[0]!.body.text)).not.toContain('helpdesk');
  }, 60_000);

  it("an admin sees and switches a conversation's agent with /agent; the switch is audited", async () => {
    expect((await say('switchy', '[[instructions]]'))[0]).toContain('You are concierge.');
    expect((await say('switchy', '/agent', 'admin'))[0]).toContain('**concierge** (the default)');
    expect((await say('switchy', '/agent use billing', 'someone'))[0]).toContain('only for admins');
    expect((await say('switchy', '/agent use nobody', 'admin'))[0]).toContain('No agent called nobody');
    expect((await say('switchy', '/agent use billing', 'admin'))[0]).toContain('now talks to **billing**');
    expect((await say('switchy', '[[instructions]]'))[0]).toContain('You are billing.');
    expect((await say('switchy', '/agent', 'admin'))[0]).toContain('**billing** (chosen with `/agent use`)');
    const audit = await sql`
      select actor, args, result from access_audit where command = 'agent' and args = 'use billing'`;
    expect(audit.map((r) => [r.actor, r.result])).toEqual([
      ['local:someone', 'refused'],
      ['local:admin', 'ok'],
    ]);
    expect((await say('switchy', '/agent reset', 'admin'))[0]).toContain('**concierge**');
    expect((await say('switchy', '[[instructions]]'))[0]).toContain('You are concierge.');
  }, 60_000);

  it('a handoff (Agents SDK) lets the other agent answer; the session records which agent made each item', async () => {
    const channel = 'C0AGENTS2';
    const text = `<@${BOT}> [[tool:transfer_to_billing]] [[instructions]]`;
    await slackEvent(appMention({ channel, ts: nextSlackTs(), text }));
    const posted = await until(
      () => fake.posted(channel),
      (p) => p.length >= 1,
    );
    expect(String(posted[0]!.body.text)).toContain('You are billing.');
    const rows = await sql`
      select i.agent, i.item->>'type' as type, i.item->>'role' as role from session_items i
      join conversations c on c.session_id = i.session_id where c.key like ${'slack:%:C0AGENTS2%'} order by i.position`;
    expect(rows.map((r) => [r.role ?? r.type, r.agent])).toEqual([
      ['user', null],
      ['function_call', 'helpdesk'],
      ['function_call_result', 'helpdesk'],
      ['assistant', 'billing'],
    ]);
  }, 60_000);
});

describe('memory off', () => {
  it('an agent with memory: false has no memory tools; one with memory keeps them', async () => {
    expect(await say('nomem', '[[tool:remember {"fact":"my dog is Rex"}]]')).toEqual(['No tool remember here.']);
    expect((await say('nomem', '/agent use billing', 'admin'))[0]).toContain('**billing**');
    expect((await say('nomem', '[[tool:recall {"query":"dog"}]]'))[0]).toMatch(/^Tool recall said: /);
  }, 60_000);
});

describe('MCP tools', () => {
  it('the model calls a tool of a stdio MCP server and of a Streamable HTTP one (header from the env)', async () => {
    expect(await say('tools', '[[tool:shout {"text":"hello there"}]]')).toEqual(['Tool shout said: HELLO THERE!']);
    expect(await say('tools', '[[tool:whoami]]')).toEqual([`Tool whoami said: key=${MCP_KEY}`]);
    // Denied on the stdio server, not allowed on the HTTP one: never offered.
    expect(await say('tools', '[[tool:whisper {"text":"HI"}]]')).toEqual(['No tool whisper here.']);
  }, 120_000);

  it('a dead MCP server leaves the turn answered, and the model is told its tools are unavailable', async () => {
    const [reply] = await say('broken', '[[instructions]]');
    expect(reply).toContain('You are broken.');
    expect(reply).toContain('The tools of "gone" are unavailable right now');
    expect(await say('broken', '[[tool:shout {"text":"x"}]]')).toEqual(['No tool shout here.']);
  }, 60_000);
});

describe('MCP approvals', () => {
  it('a needsApproval MCP tool waits for an approval, then runs; the conversation goes on', async () => {
    const [prompt] = await say('careful', '[[tool:whoami]]');
    expect(prompt).toMatch(/^\*\*Approval needed\*\*: I want to run `whoami`/);
    const id = /\/approve (\S+)`/.exec(prompt!)![1]!;
    expect(await say('careful', `/approve ${id}`)).toEqual(['Approved: running it now.']);
    const answered = await until(
      async () => (await (await fetch(`${app.url}/local/conversations/careful/messages`)).json()) as any,
      (b) => b.replies.length >= 2,
    );
    expect(answered.replies[1].text).toMatch(/^Tool whoami said: /);
    expect(await say('careful', 'still there?')).toEqual(['Echo: [someone] still there?']);
    const rows = await sql`
      select i.item->>'type' as type, i.item->>'role' as role from session_items i
      join conversations c on c.session_id = i.session_id where c.key like ${'local:%:careful'} order by i.position`;
    expect(rows.map((r) => r.role ?? r.type)).toEqual(['user', 'assistant', 'assistant', 'user', 'assistant']);
  }, 60_000);
});

describe('daily token budget', () => {
  it("a person who spent an agent's budget gets the budget notice; another agent still answers them", async () => {
    const user = 'spender';
    expect(await say('thrifty', 'a first question that costs tokens', user)).toEqual([
      'Echo: [spender] a first question that costs tokens',
    ]);
    // Counted after the turn commits (the afterCommit hook): wait for the count, not for a fixed time.
    await until(
      async () => sql`select tokens from agent_usage where agent = 'thrifty' and user_key = ${`local:default:${user}`}`,
      (rows) => Number(rows[0]?.tokens ?? 0) >= 20,
    );
    expect(await say('thrifty', 'and another one', user)).toEqual([budgetSpentText('thrifty', 20)]);
    // The budget is per agent: the default agent answers the same person elsewhere.
    expect(await say('elsewhere', 'still answered?', user)).toEqual(['Echo: [spender] still answered?']);
    // And per person: someone else still gets thrifty's answers.
    expect(await say('thrifty', 'my turn', 'frugal')).toEqual(['Echo: [frugal] my turn']);
  }, 60_000);
});

describe('agent API', () => {
  it('lists the configured agents as assistants and runs the one a run names by assistant_id', async () => {
    const { client } = await app.newClient('agents');
    const listed = await client.assistants.search({ limit: 20 });
    const names = ['helpdesk', 'concierge', 'billing', 'toolsmith', 'broken'];
    expect(listed.map((a) => a.assistant_id)).toEqual(expect.arrayContaining(names));
    expect((await client.assistants.get('billing')).name).toBe('billing');
    const named = await client.threads.create();
    const input = userInput('[[instructions]]');
    expect(lastAi(await client.runs.wait(named.thread_id, 'billing', { input }))).toContain('You are billing.');
    const routed = await client.threads.create();
    expect(lastAi(await client.runs.wait(routed.thread_id, 'agent', { input }))).toContain('You are concierge.');
  }, 60_000);
});

describe('reload', () => {
  it('a bad file keeps the old configuration and says why; a good one takes effect without a restart', async () => {
    const bad = 'agents:\n  - name: helpdesk\n    instructions: x\n    provider:\n      apiKey: sk-should-never-show\n';
    writeFileSync(file, bad);
    const [answer] = await say('reload', '/agent reload', 'admin');
    expect(answer).toContain('Kept the current agents');
    expect(answer).toContain('agents.0.provider.apiKey');
    expect(answer).not.toContain('sk-should-never-show');
    await sleep(500); // the file watch saw the bad file too: still the old agents
    expect((await say('reload', '/agent', 'admin'))[0]).toContain('- toolsmith');

    writeFileSync(file, agentsYaml('You are the reloaded helpdesk.'));
    const channel = 'C0AGENTS3';
    // The watch reloads by itself; give it a moment before the turn.
    const listing = async () => (await say('reload', '/agent', 'admin'))[0] ?? '';
    await until(listing, (t) => t.includes('- helpdesk: You are the reloaded helpdesk'), 10_000);
    await slackEvent(appMention({ channel, ts: nextSlackTs(), text: `<@${BOT}> [[instructions]]` }));
    const posted = await until(
      () => fake.posted(channel),
      (p) => p.length >= 1,
    );
    expect(String(posted[0]!.body.text)).toContain('You are the reloaded helpdesk.');
  }, 60_000);
});
