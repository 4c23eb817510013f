/**
 * The spine's promise, end to end with separate OS processes: a gateway and two workers, 200 messages across 20
 * conversations, one worker SIGKILLed mid-run. Every message is answered exactly once, in per-conversation order.
 */
import { expect, it } from 'vitest';
import { spawnRole } from '../helpers/processes.js';
import { roleFixture } from '../helpers/role-fixture.js';
import { REDIS_URL } from '../helpers/services.js';

const CONVERSATIONS = 20;
const PER_CONVERSATION = 10;

const f = roleFixture('e2e');

async function readAll(url: string, conversation: string): Promise<{ text: string; key: string }[]> {
  const res = await fetch(`${url}/local/conversations/${conversation}/messages?after=0`);
  return ((await res.json()) as { replies: { text: string; key: string }[] }).replies;
}

it('answers 200 messages exactly once and in order while a worker is SIGKILLed', async () => {
  const env = {
    DATABASE_URL: f.db.url,
    REDIS_URL,
    KEY_PREFIX: f.prefix,
    OFFLINE_MODEL: 'true',
    JOB_LOCK_MS: '3000',
    SWEEP_INTERVAL_MS: '1000',
    WORKER_CONCURRENCY: '4',
  };
  const [gateway, w1, w2] = await Promise.all([
    spawnRole('gateway', env),
    spawnRole('worker', env),
    spawnRole('worker', env),
  ]);
  f.procs.push(gateway!, w1!, w2!);

  const sent = new Map<string, string[]>();
  let killed = false;
  for (let i = 0; i < PER_CONVERSATION; i++) {
    await Promise.all(
      Array.from({ length: CONVERSATIONS }, async (_, c) => {
        const conversation = `conv${c}`;
        const text = `c${c}-m${i} [[slow:20]]`;
        const res = await fetch(`${gateway!.url}/local/messages`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ conversation, user: `user${c}`, text }),
        });
        expect(res.status).toBe(202);
        sent.set(conversation, [...(sent.get(conversation) ?? []), `c${c}-m${i}`]);
      }),
    );
    if (i === 3 && !killed) {
      killed = true;
      await w1!.kill('SIGKILL'); // mid-run: turns are in flight on both workers
    }
  }

  const answered = async () => {
    const out = new Map<string, { text: string; key: string }[]>();
    for (const conversation of sent.keys()) out.set(conversation, await readAll(gateway!.url, conversation));
    return out;
  };
  const deadline = Date.now() + 90_000;
  let replies = await answered();
  const countAnswered = (r: typeof replies) =>
    [...r.values()].flat().flatMap((x) => x.text.match(/c\d+-m\d+/g) ?? []).length;
  while (countAnswered(replies) < CONVERSATIONS * PER_CONVERSATION && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    replies = await answered();
  }
  await new Promise((r) => setTimeout(r, 1_500)); // a duplicate would show up now
  replies = await answered();

  for (const [conversation, expected] of sent) {
    const list = replies.get(conversation)!;
    const ids = list.flatMap((x) => x.text.match(/c\d+-m\d+/g) ?? []);
    expect(ids, `${conversation}: every message answered once, in order`).toEqual(expected);
    const keys = list.map((x) => x.key);
    expect(new Set(keys).size, `${conversation}: no reply part sent twice`).toBe(keys.length);
  }
  expect(killed).toBe(true);
}, 150_000);
