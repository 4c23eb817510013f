/** SIGTERM stops taking work, finishes the active turn, exits cleanly; what is left is picked up by the next worker. */
import postgres from 'postgres';
import { expect, it } from 'vitest';
import { spawnRole } from '../helpers/processes.js';
import { roleFixture } from '../helpers/role-fixture.js';
import { REDIS_URL } from '../helpers/services.js';

const f = roleFixture('graceful');

it('finishes the active turn on SIGTERM and loses nothing', async () => {
  const env = {
    DATABASE_URL: f.db.url,
    REDIS_URL,
    KEY_PREFIX: f.prefix,
    OFFLINE_MODEL: 'true',
    SHUTDOWN_GRACE_MS: '15000',
  };
  const gateway = await spawnRole('gateway', env);
  const worker = await spawnRole('worker', env);
  f.procs.push(gateway, worker);
  const res = await fetch(`${gateway.url}/local/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ conversation: 'g1', user: 'u', text: 'take your time [[slow:2500]]' }),
  });
  expect(res.status).toBe(202);
  const sql = postgres(f.db.url, { max: 1, onnotice: () => undefined });
  try {
    // Wait until the turn is running (the inbox is being read), then ask the worker to stop.
    await new Promise((r) => setTimeout(r, 800));
    const exit = await worker.kill('SIGTERM');
    expect(exit).toBe(0);
    const turns = await sql`select outcome from turns where conversation_key = 'local:default:g1'`;
    expect(turns).toHaveLength(1); // the turn was finished and committed before exit, not abandoned
    // A new worker delivers whatever the stopped one left queued; exactly one reply.
    const next = await spawnRole('worker', env);
    f.procs.push(next);
    let replies: { text: string }[] = [];
    for (let i = 0; i < 100 && replies.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      replies = (
        (await (await fetch(`${gateway.url}/local/conversations/g1/messages`)).json()) as {
          replies: { text: string }[];
        }
      ).replies;
    }
    await new Promise((r) => setTimeout(r, 500));
    replies = (
      (await (await fetch(`${gateway.url}/local/conversations/g1/messages`)).json()) as { replies: { text: string }[] }
    ).replies;
    expect(replies.map((r) => r.text)).toEqual(['Echo: [u] take your time [[slow:2500]]']);
  } finally {
    await sql.end();
  }
}, 60_000);
