/**
 * The agent's `schedule_broadcast` tool, end to end on the local channel with the offline model (real ingress,
 * worker, Postgres, scheduler): an admin asks in chat, the run stops for an approval, Approve schedules the
 * announcement exactly as `/schedule add` does (same row, same audit entry), Reject schedules nothing. The tool
 * exists only for agents that name it in the agents file, and only in an admin's turns.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { sleep, waitFor } from '../helpers/wait.js';

const run = Date.now().toString(36);
const BOSS = `boss-${run}`;
const DEPUTY = `deputy-${run}`;
const PLEB = `pleb-${run}`;
const OWNER = `owner-${run}`;
const TEMP = `temp-${run}`;

let dir: string;
let app: TestApp;
let sql: postgres.Sql;

beforeAll(async () => {
  mkdirSync('test-artifacts', { recursive: true });
  dir = mkdtempSync(resolve('test-artifacts', 'broadcast-tool-'));
  const file = resolve(dir, 'agents.yaml');
  const agents = {
    agents: [
      // `tools` unset: every built-in tool except the opt-in ones.
      { name: 'plain', instructions: 'You are plain.' },
      { name: 'announcer', instructions: 'You announce.', tools: ['current_time', 'schedule_broadcast'] },
    ],
    routes: [{ platform: 'local', kind: 'dm', agent: 'announcer' }],
    default: 'plain',
  };
  writeFileSync(file, JSON.stringify(agents)); // JSON is YAML
  app = await startTestApp({
    env: {
      AGENTS_FILE: file,
      ADMIN_USERS: `local:${BOSS},local:${DEPUTY}`,
      OWNER_USERS: `local:${OWNER}`,
      RATE_LIMIT_PER_MINUTE: '0',
      SCHEDULER_DEFAULT_TIMEZONE: 'UTC',
    },
  });
  sql = postgres(app.db.url, { max: 2, onnotice: () => undefined });
}, 60_000);

afterAll(async () => {
  await sql?.end();
  await app?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const ask = (args: { when: string; text: string }) =>
  `please announce it [[tool:schedule_broadcast ${JSON.stringify(args)}]]`;

async function dm(user: string, text: string): Promise<void> {
  const res = await app.post('/local/messages', { conversation: `dm-${user}`, user, name: user, kind: 'dm', text });
  expect(res.status).toBe(202);
}

async function command(user: string, text: string, conversation = `dm-${user}`): Promise<string> {
  const kind = conversation.startsWith('dm-') ? 'dm' : 'group';
  const res = await app.post('/local/messages', { conversation, user, name: user, kind, text });
  expect(res.status).toBe(200);
  return (res.body.replies as { text: string }[]).map((r) => r.text).join('\n');
}

async function replies(conversation: string): Promise<string[]> {
  const res = await fetch(`${app.url}/local/conversations/${conversation}/messages`);
  return ((await res.json()) as { replies: { text: string }[] }).replies.map((r) => r.text);
}

async function nth(conversation: string, n: number, what: string, ms?: number): Promise<string[]> {
  return waitFor(
    async () => {
      const r = await replies(conversation);
      return r.length >= n && r;
    },
    what,
    ms,
  );
}

type Row = Record<string, unknown>;
const scheduled = (text: string) =>
  sql<Row[]>`select text, target, conversation_key, run_at, pattern, every_ms, timezone, created_by, enabled
    from scheduled_messages where text = ${text} order by created_at`;

describe('schedule_broadcast: an admin asks, a person approves', () => {
  it('Approve schedules the announcement exactly as /schedule add would, audited as the admin', async () => {
    const text = `Maintenance tonight ${run}`;
    await dm(BOSS, ask({ when: '2027-01-05 09:00', text }));
    const [prompt] = await nth(`dm-${BOSS}`, 1, 'prompt');
    expect(prompt).toContain('Approval needed');
    expect(prompt).toContain('`schedule_broadcast`');
    expect(prompt).toContain(text); // the admin sees what would go out before deciding
    expect(await scheduled(text)).toHaveLength(0); // nothing before the decision
    const id = /\/approve (\S+)`/.exec(prompt!)![1]!;
    expect(await command(BOSS, `/approve ${id}`)).toBe('Approved: running it now.');
    const [, answer] = await nth(`dm-${BOSS}`, 2, 'answer');
    expect(answer).toMatch(/^Tool schedule_broadcast said: Scheduled `[0-9a-f-]+` to everyone opted in/);
    expect(answer).toContain('once at 2027-01-05 09:00 UTC');
    const viaTool = await scheduled(text);
    expect(viaTool).toHaveLength(1);
    // The same request as the admin command, by the same admin: the rows agree field for field.
    expect(await command(BOSS, `/schedule add 2027-01-05 09:00 | ${text}`)).toMatch(/^Scheduled `/);
    const both = await scheduled(text);
    expect(both).toHaveLength(2);
    expect(both[0]).toEqual(both[1]);
    expect(both[0]).toMatchObject({ target: 'optins', created_by: BOSS, enabled: true });
    const audit = await sql<{ command: string; result: string; args: string }[]>`
      select command, result, args from access_audit where actor = ${`local:${BOSS}`} and command = 'schedule'
      order by at`;
    expect(audit.map((a) => [a.command, a.result, a.args])).toEqual([
      ['schedule', 'ok', `add 2027-01-05 09:00 | ${text}`],
      ['schedule', 'ok', `add 2027-01-05 09:00 | ${text}`],
    ]);
  });

  it('Reject (by another admin) schedules nothing, and the model is told no', async () => {
    const text = `Rejected news ${run}`;
    await dm(DEPUTY, ask({ when: 'tomorrow at 9', text }));
    const [prompt] = await nth(`dm-${DEPUTY}`, 1, 'prompt');
    const id = /\/approve (\S+)`/.exec(prompt!)![1]!;
    // Another admin may decide (the decision is a command: any conversation works on the local channel).
    expect(await command(BOSS, `/reject ${id}`)).toBe('Rejected: it will not run.');
    const all = await nth(`dm-${DEPUTY}`, 2, 'answer');
    expect(all[1]).toMatch(/rejected this tool call/);
    await sleep(300);
    expect(await scheduled(text)).toHaveLength(0);
    const [row] = await sql<{ status: string; decided_by: string }[]>`
      select status, decided_by from approvals where id = ${id}`;
    expect(row).toEqual({ status: 'rejected', decided_by: `local:${BOSS}` });
  });
});

describe('schedule_broadcast: who has it', () => {
  it('an admin whose role goes while the prompt waits: approving then schedules nothing', async () => {
    const text = `Revoked ${run}`;
    expect(await command(OWNER, `/grant ${TEMP} admin`)).toMatch(/admin/);
    await dm(TEMP, ask({ when: 'tomorrow at 9', text }));
    const [prompt] = await nth(`dm-${TEMP}`, 1, 'prompt');
    expect(prompt).toContain('`schedule_broadcast`');
    const id = /\/approve (\S+)`/.exec(prompt!)![1]!;
    expect(await command(OWNER, `/revoke ${TEMP}`)).toMatch(/revoked|user/i);
    expect(await command(TEMP, `/approve ${id}`)).toBe('Approved: running it now.');
    const [, answer] = await nth(`dm-${TEMP}`, 2, 'answer');
    // The command itself refused, as it would have refused them typing it; the model passes that on.
    expect(answer).toMatch(/^Tool schedule_broadcast said: Sorry, `\/schedule …` is only for admins/);
    await sleep(300);
    expect(await scheduled(text)).toHaveLength(0);
    const audit = await sql<{ result: string }[]>`
      select result from access_audit where actor = ${`local:${TEMP}`} and command = 'schedule'`;
    expect(audit.map((a) => a.result)).toEqual(['refused']);
  });

  it('a non-admin is never offered the tool: no prompt, nothing scheduled', async () => {
    const text = `Sneaky ${run}`;
    await dm(PLEB, ask({ when: 'tomorrow at 9', text }));
    const [answer] = await nth(`dm-${PLEB}`, 1, 'answer');
    expect(answer).toBe('No tool schedule_broadcast here.');
    expect(await sql`select id from approvals where requester = ${`local:${PLEB}`}`).toHaveLength(0);
    expect(await scheduled(text)).toHaveLength(0);
  });

  it('an agent that does not name it has no such tool, even for an admin ("all built-ins" leaves it out)', async () => {
    const room = `plain-room-${run}`;
    const text = `Plain ${run}`;
    const res = await app.post('/local/messages', {
      conversation: room,
      user: BOSS,
      name: BOSS,
      kind: 'group',
      text: ask({ when: 'tomorrow at 9', text }),
    });
    expect(res.status).toBe(202);
    const [answer] = await nth(room, 1, 'answer');
    expect(answer).toBe('No tool schedule_broadcast here.');
    expect(await scheduled(text)).toHaveLength(0);
  });
});
