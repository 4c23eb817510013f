/**
 * Killing workers while answers stream, with real processes: a gateway and two workers (the real entry point), a
 * few conversations per streaming platform, every answer dripping slowly. Once every conversation shows its answer
 * being written, every worker is SIGKILLed (so each of those turns dies mid-stream), and a fresh worker starts.
 * Then, per conversation: exactly one final answer, the full one; no preview of a killed attempt left showing
 * as if it were still being written; nothing lost.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { GROUP_SEND_INTERVAL_MS } from '../../adapters/telegram/limits.js';
import { roleEnv, spawnRole, type RoleProcess } from '../helpers/processes.js';
import { cleanRedisPrefix, createTestDatabase, uniqueName, type TestDatabase } from '../helpers/services.js';
import {
  discordStreaming,
  localStreaming,
  slackStreaming,
  telegramStreaming,
  type StreamingConversation,
  type StreamingPlatform,
} from './streaming-platforms.js';

/** One line per platform with live previews (Telegram: private chats with drafts and groups, alternating). */
const PLATFORMS: (() => Promise<StreamingPlatform>)[] = [
  localStreaming,
  discordStreaming,
  slackStreaming,
  telegramStreaming,
];
const CONVERSATIONS_PER_PLATFORM = 3;
// 60 words, 3 per delta, 300 ms apart: about 6 s of streaming per attempt, long enough to be killed in.
const answerText = (tag: string) =>
  `[[drip:300]] ${tag} ${Array.from({ length: 58 }, (_, i) => `w${i}`).join(' ')} END`;

// Process start-up is mostly TypeScript transpiling: generous on a loaded machine (the run itself is about 30 s).
const START_MS = 150_000;
const spawn = (role: 'gateway' | 'worker', env: Record<string, string>) => spawnRole(role, env, START_MS);

let db: TestDatabase;
const prefix = uniqueName('streamchaos');
const procs: RoleProcess[] = [];
const platforms: StreamingPlatform[] = [];
const conversations: StreamingConversation[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  for (const c of conversations) c.close();
  await Promise.all(procs.map((p) => p.kill('SIGKILL')));
  await Promise.all(platforms.map((p) => p.close()));
  await cleanRedisPrefix(prefix);
  await db?.drop();
});

async function until(what: string, ok: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const everyOf = async (list: StreamingConversation[], ok: (c: StreamingConversation) => Promise<boolean>) =>
  (await Promise.all(list.map(ok))).every(Boolean);

it('workers SIGKILLed mid-stream: one final answer per turn, no orphan preview left unmarked, nothing lost', async () => {
  const t0 = Date.now();
  platforms.push(...(await Promise.all(PLATFORMS.map((p) => p()))));
  const env = roleEnv(db, prefix, {
    // A killed worker's turn goes back to the queue after the lock lapses (stall check every half of it).
    JOB_LOCK_MS: '3000',
    SWEEP_INTERVAL_MS: '1000',
    WORKER_CONCURRENCY: '16', // every conversation's turn running at the kill, in either worker
    ...Object.assign({}, ...platforms.map((p) => p.env)),
  });
  const started = await Promise.all([spawn('gateway', env), spawn('worker', env), spawn('worker', env)]);
  procs.push(...started);
  const [gateway, ...firstWorkers] = started as [RoleProcess, ...RoleProcess[]];
  await Promise.all(platforms.map((p) => p.ready(gateway.url)));
  const upAt = Date.now();

  const expected = new Map<StreamingConversation, string>();
  for (const platform of platforms) {
    for (let i = 0; i < (platform.conversations ?? CONVERSATIONS_PER_PLATFORM); i++) {
      const c = await platform.open(gateway.url, i);
      conversations.push(c);
      const tag = `tag-${platform.name}-${i}`;
      expected.set(c, tag);
      await c.send(answerText(tag));
    }
  }

  // Every answer is being written and none is finished: now every worker dies. On Slack the kill may land between
  // the stream's start and its record (the retry lists the thread for it); see `killableAfter` for Telegram groups.
  await until(
    'every conversation streaming',
    () => everyOf(conversations, async (c) => c.updates().length >= (c.killableAfter ?? 1)),
    20_000,
  );
  for (const c of conversations) expect(await c.answered(), `${c.label}: still streaming at the kill`).toBe(false);
  await Promise.all(firstWorkers.map((w) => w.kill('SIGKILL')));
  const killedAt = Date.now();
  for (const c of conversations) expect(await c.answered(), `${c.label}: killed mid-stream`).toBe(false);
  procs.push(await spawn('worker', env)); // one fresh worker takes every killed turn over
  const respawnedAt = Date.now();

  await until('every conversation answered', () => everyOf(conversations, (c) => c.answered()), 40_000);
  const s = (ms: number) => Math.round(ms / 100) / 10;
  console.info(
    `[stream-chaos] ${JSON.stringify({
      conversations: conversations.length,
      startupSeconds: s(upAt - t0),
      sendToKillSeconds: s(killedAt - upAt),
      respawnSeconds: s(respawnedAt - killedAt),
      respawnToAllAnsweredSeconds: s(Date.now() - respawnedAt),
    })}`,
  );
  // A second answer or a late preview edit would show up now: the slowest pace a second send would wait for is
  // a Telegram group's (one message every 3 s).
  await new Promise((r) => setTimeout(r, GROUP_SEND_INTERVAL_MS + 1_000));

  // Soft: a failing run names every conversation that went wrong, not only the first.
  for (const c of conversations) {
    const tag = expected.get(c)!;
    const finals = await c.finals();
    const one = `${c.label}: exactly one final answer, the whole of it: ${JSON.stringify(finals)}`;
    expect.soft(finals, one).toHaveLength(1);
    expect.soft(finals[0], one).toMatch(new RegExp(`^Echo: .*\\[\\[drip:300\\]\\] ${tag} w0 w1 .* w57 END$`));
    const orphans = `${c.label}: no preview of a killed attempt left as if still written`;
    expect.soft(c.unmarkedOrphans(), orphans).toEqual([]);
    // The retried turn streamed again after the kill (a live preview, not only the final answer).
    expect
      .soft(
        c.updates().some((at) => at > killedAt),
        `${c.label}: streamed again after the kill`,
      )
      .toBe(true);
  }
}, 480_000);
