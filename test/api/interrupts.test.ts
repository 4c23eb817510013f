/**
 * Approvals on the agent API through the published LangGraph SDK client, on the real pipeline (Postgres, Redis,
 * worker, the offline model): a run whose agent calls a `needsApproval` tool (forgetting all memories) ends as a
 * LangGraph run paused at an interrupt (run `success`, thread `interrupted`, `__interrupt__` in the values and the
 * stream, `interrupts` in the thread state), and `command.resume` decides it: approve runs the tool, reject
 * tells the model no, a second resume and a resume after expiry are refused with a clear 409.
 */
import type { Client } from '@langchain/langgraph-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq, sql } from 'drizzle-orm';
import { approvalAudit, approvals } from '../../src/approvals/schema.js';
import { apiRuns, apiThreads } from '../../src/api/schema.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { lastAi, rawApi, startApiApp, statusOf, userInput, type ApiTestApp } from './helpers.js';

const TIMEOUT_MS = 4_000;
const FORGET_ALL = 'clean slate please [[tool:forget {"memory":"all"}]]';

let app: ApiTestApp;
let client: Client;
let key: string;

beforeAll(async () => {
  app = await startApiApp({
    APPROVAL_TIMEOUT_MS: String(TIMEOUT_MS),
    RATE_LIMIT_PER_MINUTE: '0', // one API sender asks for many runs here
    API_STREAM_CHUNK_CHARS: '8',
    API_SWEEP_INTERVAL_MS: '300',
  });
  ({ client, key } = await app.newClient('interrupts'));
});
afterAll(async () => app?.close());

type Values = { messages: { type: string; content: string }[]; __interrupt__?: Interrupt[] };
type Interrupt = { id: string; value: { tool: string; args: unknown; approval_id: string; expires_at: string } };

async function approvalStatus(id: string): Promise<string | undefined> {
  const [row] = await app.database.db.select().from(approvals).where(eq(approvals.id, id));
  return row?.status;
}

/** A thread whose run stopped at the approval; the interrupt the wait answered with. */
async function interrupted(): Promise<{ threadId: string; interrupt: Interrupt }> {
  const t = await client.threads.create();
  const out = (await client.runs.wait(t.thread_id, 'agent', { input: userInput(FORGET_ALL) })) as Values;
  expect(out.__interrupt__).toHaveLength(1);
  return { threadId: t.thread_id, interrupt: out.__interrupt__![0]! };
}

describe('a run stopped for an approval', () => {
  it('ends as an interrupt: run success, thread interrupted, __interrupt__ in values, state and thread', async () => {
    const t = await client.threads.create();
    const run = await client.runs.create(t.thread_id, 'agent', { input: userInput(FORGET_ALL) });
    const joined = (await client.runs.join(t.thread_id, run.run_id)) as Values;
    const [i] = joined.__interrupt__!;
    expect(i!.value).toMatchObject({ tool: 'forget', args: { memory: 'all' }, approval_id: i!.id });
    expect(Date.parse(i!.value.expires_at)).toBeGreaterThan(Date.now());
    expect(await approvalStatus(i!.id)).toBe('pending');
    // As a LangGraph server reports a run paused at interrupt(): the run succeeded, the thread is interrupted.
    expect((await client.runs.get(t.thread_id, run.run_id)).status).toBe('success');
    const thread = await client.threads.get(t.thread_id);
    expect(thread.status).toBe('interrupted');
    expect(Object.values(thread.interrupts).flat()).toEqual([i]);
    const state = await client.threads.getState(t.thread_id);
    expect(state.next).toEqual(['agent']);
    expect(state.tasks[0]!.interrupts).toEqual([i]);
    expect((state as unknown as { interrupts: Interrupt[] }).interrupts).toEqual([i]);
    // No answer was made up: the thread holds the input and a note that it waits.
    expect(lastAi(joined)).toMatch(/Waiting for approval to run forget/);
  });

  it('streams the interrupt in updates and the final values', async () => {
    const t = await client.threads.create();
    const events: { event: string; data: any }[] = [];
    for await (const e of client.runs.stream(t.thread_id, 'agent', {
      input: userInput(FORGET_ALL),
      streamMode: ['updates', 'values'],
    }))
      events.push(e);
    const updates = events.filter((e) => e.event === 'updates').map((e) => e.data);
    const interrupt = updates.find((u) => u.__interrupt__)?.__interrupt__;
    expect(interrupt).toHaveLength(1);
    expect(interrupt[0].value.tool).toBe('forget');
    expect(events.at(-1)!.event).toBe('values');
    expect(events.at(-1)!.data.__interrupt__).toEqual(interrupt);
  });

  it('a crash after the turn stopped but before its run was finalized: the sweep ends it as an interrupt', async () => {
    const { threadId, interrupt } = await interrupted();
    const [run] = await client.runs.list(threadId);
    const db = app.database.db;
    // What a worker dying between the commit and the afterCommit hook leaves: the run still running.
    await db
      .update(apiRuns)
      .set({ status: 'running', updatedAt: sql`now() - interval '10 seconds'` })
      .where(eq(apiRuns.runId, run!.run_id));
    await db
      .update(apiThreads)
      .set({ status: 'busy', activeRunId: run!.run_id })
      .where(eq(apiThreads.threadId, threadId));
    await waitFor(async () => (await client.runs.get(threadId, run!.run_id)).status === 'success', 'sweep');
    expect((await client.threads.get(threadId)).status).toBe('interrupted');
    const out = (await client.runs.wait(threadId, 'agent', { command: { resume: true } })) as Values;
    expect(lastAi(out)).toMatch(/^Tool forget said: /);
    expect(await approvalStatus(interrupt.id)).toBe('approved');
  });

  it('new input on an interrupted thread is refused (409) unless queued behind the decision', async () => {
    const { threadId } = await interrupted();
    const refused = await rawApi(app, 'POST', `/threads/${threadId}/runs`, {
      key,
      body: { assistant_id: 'agent', input: userInput('something else') },
    });
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toMatch(/interrupted.*command.*resume/s);
    const queued = await client.runs.create(threadId, 'agent', {
      input: userInput('after the decision'),
      multitaskStrategy: 'enqueue',
    });
    await sleep(500);
    expect((await client.runs.get(threadId, queued.run_id)).status).toBe('pending');
    const resume = await client.runs.create(threadId, 'agent', { command: { resume: 'reject' } });
    const out = (await client.runs.join(threadId, resume.run_id)) as Values;
    expect(lastAi(out)).toMatch(/rejected this tool call/);
    const after = (await client.runs.join(threadId, queued.run_id)) as Values;
    expect(lastAi(after)).toBe('Echo: after the decision');
    // A run's values are the thread as that run left it, also when read after the queued run committed (as
    // LangGraph answers with the run's last checkpoint): joined, and streamed again.
    const again = (await client.runs.join(threadId, resume.run_id)) as Values;
    expect(again.messages).toEqual(after.messages.slice(0, -2));
    expect(lastAi(again)).toMatch(/rejected this tool call/);
    const replayed: { event: string; data: any }[] = [];
    for await (const e of client.runs.joinStream(threadId, resume.run_id, { streamMode: ['values'] })) replayed.push(e);
    expect(replayed.filter((e) => e.event === 'values').at(-1)!.data.messages).toEqual(again.messages);
  });
});

describe('command.resume', () => {
  it('approve: the tool runs, the answer is the run result; the thread is idle again', async () => {
    const { threadId, interrupt } = await interrupted();
    const out = (await client.runs.wait(threadId, 'agent', { command: { resume: { approved: true } } })) as Values;
    expect(lastAi(out)).toMatch(/^Tool forget said: /);
    expect(lastAi(out)).not.toMatch(/rejected/);
    expect(out.__interrupt__).toBeUndefined();
    expect(await approvalStatus(interrupt.id)).toBe('approved');
    const thread = await client.threads.get(threadId);
    expect(thread.status).toBe('idle');
    expect(thread.interrupts).toEqual({});
    const [audit] = await app.database.db
      .select()
      .from(approvalAudit)
      .where(eq(approvalAudit.approvalId, interrupt.id));
    expect(audit).toMatchObject({ result: 'accepted' });
    expect(audit!.actor).toMatch(/^api:/);
  });

  it('a stateless run kept with on_completion keep stops at its approval and is resumed on the thread it kept', async () => {
    const events: { event: string; data: any }[] = [];
    // The JS SDK's types leave onCompletion out of a stateless run; its client sends it (the Python SDK takes it).
    const keep = { onCompletion: 'keep' } as object;
    for await (const e of client.runs.stream(null, 'agent', {
      input: userInput(FORGET_ALL),
      streamMode: ['values'],
      ...keep,
    }))
      events.push(e);
    const threadId = events.find((e) => e.event === 'metadata')!.data.thread_id as string;
    const [interrupt] = (events.at(-1)!.data as Values).__interrupt__!;
    expect((await client.threads.get(threadId)).status).toBe('interrupted');
    const out = (await client.runs.wait(threadId, 'agent', { command: { resume: { approved: true } } })) as Values;
    expect(lastAi(out)).toMatch(/^Tool forget said: /);
    expect(await approvalStatus(interrupt!.id)).toBe('approved');
    expect((await client.threads.get(threadId)).status).toBe('idle');
  });

  it('a resumed run that needs a second approval stops again at a new interrupt; approving it finishes the run', async () => {
    const t = await client.threads.create();
    // Forgetting everything needs an approval (src/memory/tools.ts); asked twice, the second call needs its own.
    const input = 'twice [[tool:forget {"memory":"all"}]] [[tool:forget {"memory":"ALL"}]]';
    const first = (await client.runs.wait(t.thread_id, 'agent', { input: userInput(input) })) as Values;
    const [one] = first.__interrupt__!;
    expect(one!.value).toMatchObject({ tool: 'forget', args: { memory: 'all' } });
    const second = (await client.runs.wait(t.thread_id, 'agent', { command: { resume: true } })) as Values;
    expect(second.__interrupt__).toHaveLength(1);
    const [two] = second.__interrupt__!;
    expect(two!.id).not.toBe(one!.id);
    expect(two!.value).toMatchObject({ tool: 'forget', args: { memory: 'ALL' } });
    expect(await approvalStatus(one!.id)).toBe('approved');
    expect(await approvalStatus(two!.id)).toBe('pending');
    expect((await client.threads.get(t.thread_id)).status).toBe('interrupted');
    const done = (await client.runs.wait(t.thread_id, 'agent', { command: { resume: true } })) as Values;
    expect(done.__interrupt__).toBeUndefined();
    // Both tools ran, each once, in order: the answer has a line per call.
    expect(String(lastAi(done)).match(/^Tool forget said: /gm)).toHaveLength(2);
    expect(await approvalStatus(two!.id)).toBe('approved');
    expect((await client.threads.get(t.thread_id)).status).toBe('idle');
    const next = (await client.runs.wait(t.thread_id, 'agent', { input: userInput('still there?') })) as Values;
    expect(lastAi(next)).toBe('Echo: still there?');
  });

  it('runs/cancel reaches the resumed run: its model call stops within a second, the partial answer is kept', async () => {
    const t = await client.threads.create();
    // Resumed, the answer drips a few words a second: some seconds unless stopped.
    const out = (await client.runs.wait(t.thread_id, 'agent', {
      input: userInput(`[[drip:700]] ${FORGET_ALL}`),
    })) as Values;
    expect(out.__interrupt__).toHaveLength(1);
    // Watched (streamed), so the answer shows as it is written and what was shown is kept.
    const events: { event: string; data: any }[] = [];
    const streaming = (async () => {
      for await (const ev of client.runs.stream(t.thread_id, 'agent', {
        command: { resume: true },
        streamMode: ['messages-tuple'],
      }))
        events.push(ev as { event: string; data: any });
    })();
    const runId = await waitFor(
      async () => events.find((e) => e.event === 'metadata')?.data.run_id as string,
      'the run',
    );
    await waitFor(async () => (await client.runs.get(t.thread_id, runId)).status === 'running', 'the resume');
    await sleep(1_000); // the tool ran, the answer has begun
    const asked = Date.now();
    await client.runs.cancel(t.thread_id, runId);
    const answer = await waitFor(async () => {
      const msgs = ((await client.threads.getState(t.thread_id)).values as Values).messages ?? [];
      const last = msgs.at(-1);
      return last?.type === 'ai' && /_\(stopped\)_$/.test(last.content) ? last.content : undefined;
    }, 'the stopped answer');
    expect(Date.now() - asked).toBeLessThan(1_000);
    expect(answer).toMatch(/^Tool forget said: /);
    await streaming;
    expect((await client.runs.get(t.thread_id, runId)).status).toBe('interrupted');
    const next = (await client.runs.wait(t.thread_id, 'agent', { input: userInput('still there?') })) as Values;
    expect(lastAi(next)).toBe('Echo: still there?');
  });

  it('prints how long a resume takes, from command.resume to the answer (runs.wait)', async () => {
    const ms: number[] = [];
    for (let i = 0; i < 8; i++) {
      const { threadId } = await interrupted();
      const started = performance.now();
      const out = (await client.runs.wait(threadId, 'agent', { command: { resume: 'approve' } })) as Values;
      ms.push(performance.now() - started);
      expect(lastAi(out)).toMatch(/^Tool forget said: /);
    }
    ms.sort((a, b) => a - b);
    const at = (q: number) => Math.round(ms[Math.min(ms.length - 1, Math.floor(q * ms.length))]!);
    console.log(`resume to answer over ${ms.length} runs: p50 ${at(0.5)} ms, max ${at(1)} ms`);
    expect(at(1)).toBeLessThan(5_000);
  }, 30_000);

  it('reject, streamed: the model is told no, and the answer streams like any run', async () => {
    const { threadId, interrupt } = await interrupted();
    const events: { event: string; data: any }[] = [];
    for await (const e of client.runs.stream(threadId, 'agent', {
      command: { resume: { approved: false } },
      streamMode: ['messages-tuple', 'values'],
    }))
      events.push(e);
    const deltas = events.filter((e) => e.event === 'messages').map((e) => e.data[0].content as string);
    expect(deltas.length).toBeGreaterThan(1);
    const final = events.at(-1)!.data as Values;
    expect(deltas.join('')).toBe(lastAi(final));
    expect(lastAi(final)).toMatch(/rejected this tool call/);
    expect(await approvalStatus(interrupt.id)).toBe('rejected');
  });

  it('a second resume is refused with a clear 409 and changes nothing', async () => {
    const { threadId, interrupt } = await interrupted();
    await client.runs.wait(threadId, 'agent', { command: { resume: 'approve' } });
    const again = await rawApi(app, 'POST', `/threads/${threadId}/runs/wait`, {
      key,
      body: { assistant_id: 'agent', command: { resume: 'reject' } },
    });
    expect(again.status).toBe(409);
    expect(again.body.detail).toMatch(new RegExp(`approval ${interrupt.id} .*already approved`));
    expect(await approvalStatus(interrupt.id)).toBe('approved');
    const state = await client.threads.getState<Values>(threadId);
    expect(state.values.messages.filter((m) => m.type === 'ai')).toHaveLength(2); // the note and one answer
  });

  it('two resumes at once: one decides, the other is refused, and one answer lands', async () => {
    const { threadId, interrupt } = await interrupted();
    const results = await Promise.allSettled([
      client.runs.wait(threadId, 'agent', { command: { resume: { approved: true } } }),
      client.runs.wait(threadId, 'agent', { command: { resume: { approved: false } } }),
    ]);
    const won = results.findIndex((r) => r.status === 'fulfilled');
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const lost = results[1 - won] as PromiseRejectedResult;
    expect((lost.reason as { status: number }).status).toBe(409);
    expect(await approvalStatus(interrupt.id)).toBe(won === 0 ? 'approved' : 'rejected');
    // Longer than a second decision's turn would take to commit: still one answer after the note.
    await sleep(1_500);
    const state = await client.threads.getState<Values>(threadId);
    expect(state.values.messages.filter((m) => m.type === 'ai')).toHaveLength(2);
  });

  it('another API key cannot see the thread, so cannot resume it (404)', async () => {
    const { threadId, interrupt } = await interrupted();
    const other = await app.newClient('stranger');
    expect(await statusOf(other.client.runs.wait(threadId, 'agent', { command: { resume: true } }))).toBe(404);
    expect(await approvalStatus(interrupt.id)).toBe('pending');
  });

  it('refuses what is not a decision (422), and a resume on a thread with no interrupt (409)', async () => {
    const { threadId } = await interrupted();
    const bad = await rawApi(app, 'POST', `/threads/${threadId}/runs`, {
      key,
      body: { assistant_id: 'agent', command: { resume: 'maybe' } },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.detail).toMatch(/approved/);
    const fresh = await client.threads.create();
    const none = await rawApi(app, 'POST', `/threads/${fresh.thread_id}/runs`, {
      key,
      body: { assistant_id: 'agent', command: { resume: true } },
    });
    expect(none.status).toBe(409);
    expect(none.body.detail).toMatch(/no interrupt to resume/);
    const stateless = await rawApi(app, 'POST', '/runs/wait', {
      key,
      body: { assistant_id: 'agent', command: { resume: true } },
    });
    expect(stateless.status).toBe(409);
    expect(stateless.body.detail).toMatch(/no interrupt to resume/);
    const withInput = await rawApi(app, 'POST', `/threads/${threadId}/runs`, {
      key,
      body: { assistant_id: 'agent', command: { resume: true }, input: userInput('and this') },
    });
    expect(withInput.status).toBe(422);
  });

  it('after expiry: a clear error, nothing runs, and the thread takes new input again', async () => {
    const { threadId, interrupt } = await interrupted();
    await waitFor(async () => (await approvalStatus(interrupt.id)) === 'expired', 'expiry', TIMEOUT_MS + 15_000);
    const late = await rawApi(app, 'POST', `/threads/${threadId}/runs/wait`, {
      key,
      body: { assistant_id: 'agent', command: { resume: { approved: true } } },
    });
    expect(late.status).toBe(409);
    expect(late.body.detail).toMatch(/expired .*without a decision; nothing was done/);
    await waitFor(async () => (await client.threads.get(threadId)).status === 'idle', 'thread idle');
    const state = await client.threads.getState<Values>(threadId);
    expect(lastAi(state.values)).toMatch(/expired without a decision/);
    const out = await client.runs.wait(threadId, 'agent', { input: userInput('still there?') });
    expect(lastAi(out)).toBe('Echo: still there?');
  }, 40_000);
});
