/**
 * `npm run bench -- [--messages N] [--conversations C] [--rate R] [--soak] [--routing | --agents-file F] [--tracing]
 *   [--compare [--rounds R]] [--env KEY=VALUE ...]`
 *
 * `--routing` runs the turns through an agents file of two agents with one routing rule per conversation of half
 * the conversations (the other half falls to the default agent); `--agents-file` uses yours instead. `--tracing`
 * exports every span over OTLP/HTTP to a loopback receiver (this process), as a collector would take them.
 * `--compare` is the "no regression" check in one run: plain runs (no agents file, no tracing) alternate with
 * runs with routing and tracing on, `--rounds` of each (default 2), and it prints the median of each side and the
 * on/off ratios of throughput and latency.
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
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { createHttpFetch } from '../src/core/http-fetch.js';
import { cleanRedisPrefix, createTestDatabase, REDIS_URL, uniqueName } from '../test/helpers/services.js';
import { spawnRole, type RoleProcess } from '../test/helpers/processes.js';
import { startOtlpReceiver } from '../test/fakes/otlp/receiver.js';
import { percentile, scrape } from './stats.js';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '20000' },
    conversations: { type: 'string', default: '200' },
    rate: { type: 'string', default: '0' },
    concurrency: { type: 'string', default: '64' },
    soak: { type: 'boolean', default: false },
    routing: { type: 'boolean', default: false },
    'agents-file': { type: 'string' },
    tracing: { type: 'boolean', default: false },
    compare: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '2' },
    // KEY=VALUE settings for both processes, e.g. `--env MEMORY_ENABLED=false` to see what a module costs.
    env: { type: 'string', multiple: true, default: [] },
  },
});
const EXTRA_ENV = Object.fromEntries(
  values.env!.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
);
const COMPARE = values.compare!;
const ROUNDS = Math.max(1, Number(values.rounds));
const TRACING = values.tracing!;
const soak = values.soak!;
const N = soak && values.messages === '20000' ? 100_000 : Number(values.messages);
const C = Number(values.conversations);
const rateGiven = process.argv.some((a) => a === '--rate' || a.startsWith('--rate='));
const RATE = soak && !rateGiven ? 250 : Number(values.rate);
const INFLIGHT = Number(values.concurrency);
const WARM_UP = 100;
/** Where a paced run's steady state is taken to begin (`steadyLatencyMs`). */
const STEADY_AFTER_MS = 3_000;

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

interface Features {
  env: Record<string, string>;
  /** Spans the receiver took so far (tracing on). */
  spans?: () => number;
  close(): Promise<void>;
}

/** Two agents; half the conversations routed to `support` by channel rules, the rest to the default `assistant`. */
function routingFile(dir: string): string {
  const file = resolve(dir, 'agents.yaml');
  const routes = Array.from({ length: Math.ceil(C / 2) }, (_, c) => ({
    platform: 'local',
    channel: `conv${c * 2}`,
    agent: 'support',
  }));
  const agents = {
    agents: [
      { name: 'assistant', instructions: 'You are a helpful assistant.' },
      { name: 'support', instructions: 'You answer support questions.', tools: ['current_time'], memory: false },
    ],
    routes,
    default: 'assistant',
  };
  writeFileSync(file, JSON.stringify(agents)); // JSON is YAML
  return file;
}

/** The environment for routing (a given or generated agents file) and tracing, and what to clean up after. */
async function featureEnv(
  agentsFile: string | undefined,
  tracing: boolean,
  routing = values.routing!,
): Promise<Features> {
  const env: Record<string, string> = {};
  let dir: string | undefined;
  if (agentsFile) env.AGENTS_FILE = resolve(agentsFile);
  else if (routing) {
    mkdirSync('test-artifacts', { recursive: true });
    dir = mkdtempSync(resolve('test-artifacts', 'bench-agents-'));
    env.AGENTS_FILE = routingFile(dir);
  }
  const receiver = tracing ? await startOtlpReceiver({ keep: false }) : undefined;
  if (receiver) env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url; // default batch settings, as deployed
  return {
    env,
    spans: receiver ? () => receiver.count() : undefined,
    async close() {
      await receiver?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface PipelineRun {
  msgsPerSec: number;
  seconds: number;
  latencies: number[];
  /** Those of messages sent from STEADY_AFTER_MS on. */
  steady: number[];
  acks: number[];
  rss: { gateway: number; worker: number };
  rssSamples: number[];
  rssAt10k: number;
  /** CPU milliseconds per message in each process (its own process_cpu_seconds_total over the run). */
  cpuMsPerMsg: { gateway: number; worker: number };
}

/** One pipeline run: a fresh database, key prefix, gateway and worker process, `extraEnv` on top of the defaults. */
async function runPipeline(extraEnv: Record<string, string>): Promise<PipelineRun> {
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
    TURN_BATCH_MAX: '100',
    // The pipeline is measured, not the abuse limits: 100 messages per user in seconds would be refused.
    RATE_LIMIT_PER_MINUTE: '0',
    BOT_LOOP_MAX_REPLIES_PER_MINUTE: '0',
    ...(process.env.BENCH_PROFILE ? { NODE_ARGS: `--cpu-prof --cpu-prof-dir=${process.env.BENCH_PROFILE}` } : {}),
    // Other node flags for both processes, e.g. --perf-basic-prof for `perf record` (CPU time, not wall time).
    ...(process.env.BENCH_NODE_ARGS ? { NODE_ARGS: process.env.BENCH_NODE_ARGS } : {}),
    ...EXTRA_ENV,
    ...extraEnv,
  };
  const procs: RoleProcess[] = [];
  try {
    const [gateway, worker] = await Promise.all([spawnRole('gateway', env), spawnRole('worker', env)]);
    procs.push(gateway, worker);

    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    // A paced run's first seconds carry the processes' warm-up (JIT, pools, caches) however long the warm-up
    // phase: latencies of messages sent from STEADY_AFTER_MS on are also reported apart.
    const steady: number[] = [];
    let steadyFrom = Number.POSITIVE_INFINITY;
    const acks: number[] = [];
    let delivered = 0;
    let rssAt10k = 0;
    const rssSamples: number[] = [];
    let allDone!: () => void;
    const finished = new Promise<void>((r) => (allDone = r));
    const sub = new Redis(REDIS_URL);
    const warming = new Set<string>();
    let warmed!: () => void;
    const warm = new Promise<void>((r) => (warmed = r));
    sub.on('message', (_c: string, msg: string) => {
      const d = JSON.parse(msg) as { eventIds: string[] };
      const now = performance.now();
      for (const id of d.eventIds) {
        if (warming.delete(id) && !warming.size) warmed();
        const t = sentAt.get(id);
        if (t !== undefined) {
          latencies.push(now - t);
          if (t >= steadyFrom) steady.push(now - t);
          sentAt.delete(id);
          // RSS growth is measured from the 10,000th *answered* message: by then the worker is warm.
          if (++delivered === 10_000 && soak) rssAt10k = rssMb(worker.proc.pid);
          if (delivered % 10_000 === 0) rssSamples.push(rssMb(worker.proc.pid));
          if (delivered === N) allDone();
        }
      }
    });
    await sub.subscribe(`${prefix}:delivered`);

    // The gateway's own HTTP client: Node's fetch cost the load generator about three times the CPU per request,
    // on the cores the measured processes share.
    const loadFetch = createHttpFetch();
    // Warm-up, not measured: connections opened and code paths compiled, in conversations of their own (the
    // measured ones still start fresh). Without it the first second's cold start is most of a paced run's p99.
    for (let i = 0; i < WARM_UP; i++) warming.add(`local:warm${i}`);
    await Promise.all(
      Array.from({ length: WARM_UP }, (_, i) =>
        loadFetch(`${gateway.url}/local/messages`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ conversation: `warm-${i}`, user: `warm-${i}`, text: 'warm up', id: `warm${i}` }),
        }).then((r) => r.arrayBuffer()),
      ),
    );
    await warm;

    const cpu = () => Promise.all([gateway, worker].map((p) => scrape(p.url, 'process_cpu_seconds_total')));
    const cpu0 = await cpu();
    const t0 = performance.now();
    steadyFrom = t0 + STEADY_AFTER_MS;
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
          const res = await loadFetch(`${gateway.url}/local/messages`, {
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
    const cpuMs = (await cpu()).map((v, i) => Math.round(((v - cpu0[i]!) * 1e6) / N) / 1e3);
    const cpuMsPerMsg = { gateway: cpuMs[0]!, worker: cpuMs[1]! };
    sub.disconnect();
    for (const p of procs) await p.kill('SIGTERM');
    procs.length = 0;

    return { msgsPerSec: N / seconds, seconds, latencies, steady, acks, rss, rssSamples, rssAt10k, cpuMsPerMsg };
  } finally {
    for (const p of procs) await p.kill('SIGKILL');
    await cleanRedisPrefix(prefix);
    await db.drop();
  }
}

/** The figures of one run, as printed. */
function figures(r: PipelineRun, raw: number): Record<string, unknown> {
  const out: Record<string, unknown> = {
    messages: N,
    conversations: C,
    seconds: Math.round(r.seconds * 100) / 100,
    msgsPerSec: Math.round(r.msgsPerSec),
    rawBullmqPerSec: Math.round(raw),
    ratio: Math.round((r.msgsPerSec / raw) * 1000) / 1000,
    latencyMs: { p50: pct(r.latencies, 50), p99: pct(r.latencies, 99) },
    ...(RATE && r.steady.length ? { steadyLatencyMs: { p50: pct(r.steady, 50), p99: pct(r.steady, 99) } } : {}),
    ackMs: { p99: pct(r.acks, 99) },
    rssMb: r.rss,
    cpuMsPerMsg: r.cpuMsPerMsg,
  };
  if (RATE) out.rate = RATE;
  if (soak) out.rssSamplesMb = r.rssSamples;
  if (soak) out.rssGrowthPct = r.rssAt10k ? Math.round(((r.rss.worker - r.rssAt10k) / r.rssAt10k) * 1000) / 10 : null;
  return out;
}

async function main(): Promise<void> {
  if (!COMPARE) {
    const features = await featureEnv(values['agents-file'], TRACING);
    try {
      const run = await runPipeline(features.env);
      const result = figures(run, await rawBullmq(N));
      if (features.spans) result.spansExported = features.spans();
      console.log(JSON.stringify(result));
    } finally {
      await features.close();
    }
    return;
  }
  // Plain and featured runs alternate, so drift on a shared machine (other load, a warming cache) hits both.
  const features = await featureEnv(values['agents-file'] ?? undefined, true, true);
  const plain: PipelineRun[] = [];
  const featured: PipelineRun[] = [];
  try {
    for (let i = 0; i < ROUNDS; i++) {
      plain.push(await runPipeline({}));
      featured.push(await runPipeline(features.env));
    }
    const raw = await rawBullmq(N);
    const med = (xs: number[]) => {
      const s = [...xs].sort((a, b) => a - b);
      const m = s.length >> 1;
      return Math.round((s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2) * 100) / 100;
    };
    const summary = (runs: PipelineRun[]) => ({
      msgsPerSec: Math.round(med(runs.map((r) => r.msgsPerSec))),
      latencyMs: {
        p50: med(runs.map((r) => pct(r.latencies, 50))),
        p99: med(runs.map((r) => pct(r.latencies, 99))),
      },
      ackMs: { p99: med(runs.map((r) => pct(r.acks, 99))) },
      rssMb: { worker: med(runs.map((r) => r.rss.worker)) },
      cpuMsPerMsg: {
        gateway: med(runs.map((r) => r.cpuMsPerMsg.gateway)),
        worker: med(runs.map((r) => r.cpuMsPerMsg.worker)),
      },
    });
    const brief = (r: PipelineRun) => ({ msgsPerSec: Math.round(r.msgsPerSec), p50: Math.round(pct(r.latencies, 50)) });
    const off = summary(plain);
    const on = summary(featured);
    const ratio = (a: number, b: number) => (b ? Math.round((a / b) * 1000) / 1000 : null);
    console.log(
      JSON.stringify({
        messages: N,
        conversations: C,
        rounds: ROUNDS,
        rawBullmqPerSec: Math.round(raw),
        off,
        on: { ...on, spansExported: features.spans?.() },
        // on / off: below 1 for throughput, above 1 for latency, is what routing and tracing cost.
        onOffRatio: {
          msgsPerSec: ratio(on.msgsPerSec, off.msgsPerSec),
          latencyP50: ratio(on.latencyMs.p50, off.latencyMs.p50),
          latencyP99: ratio(on.latencyMs.p99, off.latencyMs.p99),
          ackP99: ratio(on.ackMs.p99, off.ackMs.p99),
          gatewayCpu: ratio(on.cpuMsPerMsg.gateway, off.cpuMsPerMsg.gateway),
          workerCpu: ratio(on.cpuMsPerMsg.worker, off.cpuMsPerMsg.worker),
        },
        // Each run's throughput and p50 latency, in order: how much the machine's noise moves them.
        runs: { off: plain.map(brief), on: featured.map(brief) },
      }),
    );
  } finally {
    await features.close();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
