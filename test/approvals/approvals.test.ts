/**
 * Approvals end to end on the real pipeline (ingress, inbox, worker, Postgres, outbox, the platform SDKs against
 * the loopback fakes, the offline model): a tool marked `needsApproval` (forgetting all memories) stops the run,
 * one prompt is shown with Approve / Reject (buttons on Slack, Discord and Telegram; commands on the local
 * channel), and only the person who asked (or an admin) can decide. Approve runs the tool and the answer replaces
 * the prompt; reject tells the model no; a prompt nobody answers expires; a second click changes nothing;
 * messages sent meanwhile wait and run after.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localPerson, sleep, startPlatforms, waitFor, type Person, type Platforms } from '../access/platforms.js';

const TIMEOUT_MS = 6_000;
const FORGET_ALL = 'clean slate please [[tool:forget {"memory":"all"}]]';

let p: Platforms;
beforeAll(async () => {
  p = await startPlatforms({ APPROVAL_TIMEOUT_MS: String(TIMEOUT_MS), RATE_LIMIT_PER_MINUTE: '0' });
});
afterAll(async () => p?.close());

async function status(id: string): Promise<string | undefined> {
  const [row] = await p.sql<{ status: string }[]>`select status from approvals where id = ${id}`;
  return row?.status;
}

/** `who` asks for something that needs an approval; resolves with the approval's id once the prompt shows. */
async function askLocal(who: Person): Promise<string> {
  await p.dm(who, FORGET_ALL);
  const prompt = await waitFor(
    async () => (await p.dmReplies(who)).find((t) => t.includes('Approval needed')),
    'prompt',
  );
  expect(prompt).toContain('`forget`');
  return /\/approve (\S+)`/.exec(prompt)![1]!;
}

describe('local channel: approve and reject by command', () => {
  it('approve runs the tool; a stranger cannot decide; messages sent meanwhile wait and run after', async () => {
    const lou = localPerson('lou');
    const id = await askLocal(lou);
    expect(await p.command(localPerson('eve'), 'approve', id, { dm: true })).toMatch(/Only the person who asked/);
    await p.dm(lou, 'and one more thing');
    await sleep(400);
    expect(await p.dmReplies(lou)).toHaveLength(1); // only the prompt: the message waits
    expect(await status(id)).toBe('pending');
    expect(await p.command(lou, 'approve', id, { dm: true })).toBe('Approved: running it now.');
    const all = await waitFor(async () => {
      const r = await p.dmReplies(lou);
      return r.length >= 3 && r;
    }, 'answer and the waiting message');
    expect(all[1]).toMatch(/^Tool forget said: /);
    expect(all[1]).not.toMatch(/rejected/);
    expect(all[2]).toBe('Echo: and one more thing');
    expect(await status(id)).toBe('approved');
    expect(await p.command(lou, 'reject', id, { dm: true })).toMatch(/already decided/);
    await sleep(200);
    expect(await p.dmReplies(lou)).toHaveLength(3);
    const audit = await p.sql<
      { result: string }[]
    >`select result from approval_audit where approval_id = ${id} order by at`;
    expect(audit.map((a) => a.result)).toEqual(['refused', 'accepted', 'decided']);
  });

  it('reject: the tool does not run and the model is told so', async () => {
    const ann = localPerson('ann');
    const id = await askLocal(ann);
    expect(await p.command(ann, 'reject', id, { dm: true })).toBe('Rejected: it will not run.');
    const r = await waitFor(async () => {
      const x = await p.dmReplies(ann);
      return x.length >= 2 && x;
    }, 'answer');
    expect(r[1]).toMatch(/rejected this tool call/);
    expect(await status(id)).toBe('rejected');
  });

  it('expires with a clear message; a decision after expiry changes nothing', async () => {
    const bo = localPerson('bo');
    const id = await askLocal(bo);
    const r = await waitFor(
      async () => {
        const x = await p.dmReplies(bo);
        return x.length >= 2 && x;
      },
      'expiry message',
      TIMEOUT_MS + 10_000,
    );
    expect(r[1]).toMatch(/expired without a decision; nothing was done/);
    expect(await status(id)).toBe('expired');
    expect(await p.command(bo, 'approve', id, { dm: true })).toMatch(/already decided \(expired\)/);
    await sleep(300);
    expect(await p.dmReplies(bo)).toHaveLength(2);
  }, 30_000);
});
