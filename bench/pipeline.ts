/**
 * `npm run bench -- [--messages N] [--conversations C] [--rate R] [--soak]`
 *
 * `--soak` is the leak check: 100,000 messages at a rate the worker sustains (250/s unless --rate is given), and
 * the worker's RSS growth from the 10,000th answered message to the end. It is paced because an unpaced run builds
 * a backlog: turns then grow from one message to TURN_BATCH_MAX messages each, and RSS follows the larger working
 * set, not a leak (`--soak --rate 0` shows it; `rssSamplesMb` has the worker's RSS every 10,000 messages).
 *
 * Drives N messages over C conversations through the real pipeline (a gateway process and a worker process,
 * ingress -> inbox/queue -> worker with the offline model -> outbound -> local channel) on real Redis and
 * Postgres, and in the same run measures raw BullMQ add+process of the same count, so the result is a ratio
 * that means something on any machine. Prints one JSON line last.
 */
import { Queue, Worker } from 'bullmq';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { cleanRedisPrefix, createTestDatabase, REDIS_URL, uniqueName } from '../test/helpers/services.js';
import { spawnRole, type RoleProcess } from '../test/helpers/processes.js';
import { percentile } from './stats.js';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '20000' },
    conversations: { type: 'string', default: '200' },
    rate: { type: 'string', default: '0' },
    concurrency: { type: 'string', default: '64' },
    soak: { type: 'boolean', default: false },
  },
});
const soak = values.soak!;
const N = soak && values.messages === '20000' ? 100_000 : Number(values.messages);
const C = Number(values.conversations);
const rateGiven = process.argv.some((a) => a === '--rate' || a.startsWith('--rate='));
const RATE = soak && !rateGiven ? 250 : Number(values.rate);
const INFLIGHT = Number(values.concurrency);

const rssMb = (pid: number | undefined) => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 102.4) / 10 : 0;
};
const pct = (xs: number[], p: number) => percentile(xs, p, 1);

async function rawBullmq(count: number): Promise<number> {
  const prefix = uniqueName('rawbench');
  const conn = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue('raw', { connection: conn, prefix });
  let done = 0;
  let finish!: () => void;
  const all = new Promise<void>((r) => (finish = r));
  const worker = new Worker('raw', async () => undefined, {
    connection: new Redis(REDIS_URL, { maxRetriesPerRequest: null }),
    prefix,
    concurrency: 16,
  });
  worker.on('completed', () => ++done === count && finish());
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: INFLIGHT }, async () => {
      while (next < count) {
        const i = next++;
        await queue.add('j', { conversationKey: `c${i % C}` }, { removeOnComplete: true });
      }
    }),
  );
  await all;
  const seconds = (performance.now() - t0) / 1000;
  await worker.close();
  await queue.close();
  conn.disconnect();
  await cleanRedisPrefix(prefix);
  return count / seconds;
}

async function main(): Promise<void> {
  const db = await createTestDatabase();
  const prefix = uniqueName('bench');
  const env = {
    DATABASE_URL: db.url,
    REDIS_URL,
    KEY_PREFIX: prefix,
    OFFLINE_MODEL: 'true',
    LOG_LEVEL: 'error',
    WORKER_CONCURRENCY: '32',
    OUTBOUND_CONCURRENCY: '32',
    DATABASE_POOL_SIZE: '20',
    TURN_BATCH_MAX: '100',
    // The pipeline is measured, not the abuse limits: 100 messages per user in seconds would be refused.
    RATE_LIMIT_PER_MINUTE: '0',
    BOT_LOOP_MAX_REPLIES_PER_MINUTE: '0',
    ...(process.env.BENCH_PROFILE ? { NODE_ARGS: `--cpu-prof --cpu-prof-dir=${process.env.BENCH_PROFILE}` } : {}),
  };
  const procs: RoleProcess[] = [];
  try {
    const [gateway, worker] = await Promise.all([spawnRole('gateway', env), spawnRole('worker', env)]);
    procs.push(gateway, worker);

    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    const acks: number[] = [];
    let delivered = 0;
    let rssAt10k = 0;
    const rssSamples: number[] = [];
    let allDone!: () => void;
    const finished = new Promise<void>((r) => (allDone = r));
    const sub = new Redis(REDIS_URL);
    sub.on('message', (_c: string, msg: string) => {
      const d = JSON.parse(msg) as { eventIds: string[] };
      const now = performance.now();
      for (const id of d.eventIds) {
        const t = sentAt.get(id);
        if (t !== undefined) {
          latencies.push(now - t);
          sentAt.delete(id);
          // RSS growth is measured from the 10,000th *answered* message: by then the worker is warm.
          if (++delivered === 10_000 && soak) rssAt10k = rssMb(worker.proc.pid);
          if (delivered % 10_000 === 0) rssSamples.push(rssMb(worker.proc.pid));
          if (delivered === N) allDone();
        }
      }
    });
    await sub.subscribe(`${prefix}:delivered`);

    const t0 = performance.now();
    let next = 0;
    const interval = RATE > 0 ? 1000 / RATE : 0;
    await Promise.all(
      Array.from({ length: RATE > 0 ? Math.min(INFLIGHT, 32) : INFLIGHT }, async () => {
        while (next < N) {
          const i = next++;
          if (interval) {
            const due = t0 + i * interval;
            const wait = due - performance.now();
            if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          }
          const id = `b${i}`;
          const start = performance.now();
          sentAt.set(`local:${id}`, start);
          const res = await fetch(`${gateway.url}/local/messages`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ conversation: `conv${i % C}`, user: `u${i % C}`, text: `message ${i}`, id }),
          });
          acks.push(performance.now() - start);
          if (res.status !== 202) throw new Error(`ingress answered ${res.status}`);
          await res.arrayBuffer();
        }
      }),
    );
    await Promise.race([
      finished,
      new Promise((_, rej) => setTimeout(() => rej(new Error(`timed out: ${delivered}/${N} delivered`)), 30 * 60_000)),
    ]);
    const seconds = (performance.now() - t0) / 1000;
    const rss = { gateway: rssMb(gateway.proc.pid), worker: rssMb(worker.proc.pid) };
    sub.disconnect();
    for (const p of procs) await p.kill('SIGTERM');
    procs.length = 0;

    const raw = await rawBullmq(N);
    const msgsPerSec = N / seconds;
    const result: Record<string, unknown> = {
      messages: N,
      conversations: C,
      seconds: Math.round(seconds * 100) / 100,
      msgsPerSec: Math.round(msgsPerSec),
      rawBullmqPerSec: Math.round(raw),
      ratio: Math.round((msgsPerSec / raw) * 1000) / 1000,
      latencyMs: { p50: pct(latencies, 50), p99: pct(latencies, 99) },
      ackMs: { p99: pct(acks, 99) },
      rssMb: rss,
    };
    if (RATE) result.rate = RATE;
    if (soak) result.rssSamplesMb = rssSamples;
    if (soak) result.rssGrowthPct = rssAt10k ? Math.round(((rss.worker - rssAt10k) / rssAt10k) * 1000) / 10 : null;
    console.log(JSON.stringify(result));
  } finally {
    for (const p of procs) await p.kill('SIGKILL');
    await cleanRedisPrefix(prefix);
    await db.drop();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
