/**
 * `npm run bench:load -- [--conversations 1000] [--per 1] [--model-ms 2000] [--ttft-ms 500] [--tps 50]
 *   [--api chat_completions|responses] [--slack-share 0.5] [--tokens-per-chunk 10] [--warm 20] [--env KEY=VALUE ...] [--dist]`
 *
 * N conversations at once against a realistic model: a gateway process and a worker process (default settings)
 * on real Redis and Postgres, messages through the local channel's HTTP ingress and the signed Slack Events
 * webhook (replies to a loopback fake Slack), the agent on the REAL OpenAI provider path pointed at a paced
 * loopback model (test/fakes/openai: `--ttft-ms` to first token, then tokens at `--tps` up to `--model-ms`).
 * Every conversation sends its first message at the same moment; with `--per` > 1 each sends the next as soon as
 * the previous was acknowledged (so later ones land during a turn and are batched into the next).
 *
 * overheadMs = a message's end-to-end latency minus the model time of its conversation's model calls that ran
 * while it waited. CPU per turn comes from each process's own accounting (process_cpu_seconds_total on /metrics)
 * over the measured window, divided by the turns the worker committed; the rest of the machine's CPU per turn
 * (this host's Redis and Postgres, and this process: load generator, fake model, fake Slack) is printed beside it.
 * Prints one JSON line last.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { createHttpFetch } from '../src/core/http-fetch.js';
import { startFakeOpenAI, type ServedRequest } from '../test/fakes/openai/server.js';
import { FakeSlack } from '../test/fakes/slack/fake-slack.js';
import { signedHeaders } from '../test/fakes/slack/requests.js';
import { spawnRole, type RoleProcess } from '../test/helpers/processes.js';
import { cleanRedisPrefix, createTestDatabase, REDIS_URL, uniqueName } from '../test/helpers/services.js';
import { percentile, scrape, serverCpuSeconds } from './stats.js';

const { values } = parseArgs({
  options: {
    conversations: { type: 'string', default: '1000' },
    per: { type: 'string', default: '1' },
    'model-ms': { type: 'string', default: '2000' },
    'ttft-ms': { type: 'string', default: '500' },
    tps: { type: 'string', default: '50' },
    // Tokens per streamed event: real providers send about one; the default keeps the fake's own CPU down.
    'tokens-per-chunk': { type: 'string', default: '10' },
    api: { type: 'string', default: 'chat_completions' },
    'slack-share': { type: 'string', default: '0.5' },
    // Conversations answered before the measured burst (other conversations, same mix): 20 opens connections
    // and compiles the code paths once; a worker that has run for a while is closer to --warm 2000.
    warm: { type: 'string', default: '20' },
    // KEY=VALUE settings for both processes, e.g. `--env MEMORY_ENABLED=false` to see what a module costs.
    env: { type: 'string', multiple: true, default: [] },
    // The compiled build (`npm run build`, as `npm start` and the image run it) instead of TypeScript through tsx.
    dist: { type: 'boolean', default: false },
  },
});
const C = Number(values.conversations);
const PER = Number(values.per);
const MODEL_MS = Number(values['model-ms']);
const TTFT = Math.min(Number(values['ttft-ms']), MODEL_MS);
const TPS = Number(values.tps);
const SLACK_SHARE = Number(values['slack-share']);
const SECRET = 'bench-signing-secret';

const rssMb = (pid: number | undefined) => {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 102.4) / 10 : 0;
  } catch {
    return 0;
  }
};
const pct = (xs: number[], p: number) => percentile(xs, p, 0);

/** Every model call that ran for conversation `c`, to subtract from its messages' latency. */
const convOf = (text: string) => Number(/\bk(\d+)m\d+\b/.exec(text)?.[1] ?? -1);
function modelTimeWithin(calls: ServedRequest[] | undefined, from: number, to: number): number {
  let ms = 0;
  for (const r of calls ?? []) ms += Math.max(0, Math.min(to, r.endedAt) - Math.max(from, r.startedAt));
  return ms;
}

async function main(): Promise<void> {
  const answerTokens = Math.max(1, Math.round(((MODEL_MS - TTFT) / 1000) * TPS));
  // Ten tokens per streamed event keeps the fake's own CPU out of the way; workers do not stream today anyway.
  if (values.dist) execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  const model = await startFakeOpenAI({
    ttftMs: TTFT,
    tokensPerSec: TPS,
    answerTokens,
    tokensPerChunk: Number(values['tokens-per-chunk']),
  });
  const calls = new Map<number, ServedRequest[]>();
  model.onServed = (r) => {
    const c = convOf(r.lastUserText);
    calls.set(c, [...(calls.get(c) ?? []), r]);
  };
  const slack = await new FakeSlack().start();
  const db = await createTestDatabase();
  const prefix = uniqueName('load');
  const env = {
    DATABASE_URL: db.url,
    REDIS_URL,
    KEY_PREFIX: prefix,
    LOG_LEVEL: 'error',
    OPENAI_API_KEY: 'bench-key',
    OPENAI_BASE_URL: model.url,
    OPENAI_API: values.api!,
    MODEL_TIMEOUT_MS: '120000',
    SLACK_BOT_TOKEN: 'xoxb-bench',
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: slack.apiUrl,
    SLACK_BOT_USER_ID: 'UBOTBENCH',
    // The pipeline is measured, not the abuse limits.
    RATE_LIMIT_PER_MINUTE: '0',
    BOT_LOOP_MAX_REPLIES_PER_MINUTE: '0',
    ...(values.dist ? { ROLE_ENTRY: 'dist' } : {}),
    ...Object.fromEntries(values.env!.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])),
    ...(process.env.BENCH_PROFILE ? { NODE_ARGS: `--cpu-prof --cpu-prof-dir=${process.env.BENCH_PROFILE}` } : {}),
    // Other node flags for both processes, e.g. --perf-basic-prof for `perf record` (CPU time, not wall time).
    ...(process.env.BENCH_NODE_ARGS ? { NODE_ARGS: process.env.BENCH_NODE_ARGS } : {}),
  };
  const procs: RoleProcess[] = [];
  const sub = new Redis(REDIS_URL);
  try {
    // One after the other: two cold starts at once on a busy small machine can miss spawnRole's deadline.
    const gateway = await spawnRole('gateway', env, 120_000);
    procs.push(gateway);
    const worker = await spawnRole('worker', env, 120_000);
    procs.push(worker);

    const sentAt = new Map<string, { at: number; conv: number }>();
    const latencies: number[] = [];
    const overheads: number[] = [];
    const acks: number[] = [];
    let delivered = 0;
    let target = 0;
    let reached: () => void = () => undefined;
    sub.on('message', (_c: string, msg: string) => {
      const now = performance.now();
      for (const id of (JSON.parse(msg) as { eventIds: string[] }).eventIds) {
        const s = sentAt.get(id);
        if (!s) continue;
        sentAt.delete(id);
        latencies.push(now - s.at);
        overheads.push(now - s.at - modelTimeWithin(calls.get(s.conv), s.at, now));
        if (++delivered === target) reached();
      }
    });
    await sub.subscribe(`${prefix}:delivered`);

    let sendRetries = 0;
    // The gateway's own HTTP client: Node's fetch cost the load generator ~30% of its CPU, on the cores the
    // measured processes share.
    const loadFetch = createHttpFetch();
    // A burst can overflow the listen backlog (a reset) or time out the gateway's enqueue (a 5xx): retry, as
    // platforms do; the ack time counts from the first attempt.
    const post = async (url: string, init: RequestInit): Promise<Response> => {
      for (let attempt = 0; ; attempt++) {
        const res = await loadFetch(url, init).catch((err: Error) => err);
        if (res instanceof Response && res.status < 500) return res;
        if (attempt >= 8) {
          if (res instanceof Response) return res;
          throw res;
        }
        if (res instanceof Response) await res.arrayBuffer();
        sendRetries++;
        await new Promise((r) => setTimeout(r, 100 * 2 ** Math.min(attempt, 5)));
      }
    };
    const send = async (c: number, m: number, viaSlack = c < C * SLACK_SHARE): Promise<void> => {
      const token = `k${c}m${m}`;
      const start = performance.now();
      let res: Response;
      if (viaSlack) {
        const channel = `D${String(c).padStart(6, '0')}`;
        const ts = `${1_700_000_000 + m}.${String(c).padStart(6, '0')}`;
        const body = JSON.stringify({
          token: 't',
          team_id: 'TBENCH',
          api_app_id: 'A1',
          type: 'event_callback',
          event_id: `Ev${c}x${m}`,
          event_time: Math.floor(Date.now() / 1000),
          event: { type: 'message', channel, channel_type: 'im', user: `U${c}`, text: `hello ${token}`, ts },
        });
        sentAt.set(`slack:TBENCH:${channel}:${ts}`, { at: start, conv: c });
        res = await post(`${gateway.url}/slack/events`, { method: 'POST', headers: signedHeaders(SECRET, body), body });
      } else {
        const id = `${prefix}-${token}`;
        sentAt.set(`local:${id}`, { at: start, conv: c });
        res = await post(`${gateway.url}/local/messages`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ conversation: `conv${c}`, user: `u${c}`, text: `hello ${token}`, id }),
        });
      }
      acks.push(performance.now() - start);
      const answer = await res.text();
      if (res.status !== 200 && res.status !== 202) {
        const via = viaSlack ? 'slack' : 'local';
        throw new Error(
          `${via} ingress answered ${res.status} ${answer.slice(0, 300)}; gateway log:\n${procs[0]?.output().slice(-2_000)}`,
        );
      }
    };
    const waitFor = (n: number, timeoutMs: number) =>
      new Promise<void>((resolve, reject) => {
        target = n;
        if (delivered >= n) return resolve();
        const t = setTimeout(() => reject(new Error(`timed out: ${delivered}/${n} delivered`)), timeoutMs);
        reached = () => (clearTimeout(t), resolve());
      });

    // Warm-up (not measured): connections opened, code paths compiled, on both ingresses; conversations of their
    // own (numbered from C), in bursts of at most C, so the measured ones start fresh.
    const warm = Number(values.warm);
    for (let from = 0; from < warm; from += C) {
      const n = Math.min(C, warm - from);
      await Promise.all(Array.from({ length: n }, (_, i) => send(C + from + i, 0, i < n * SLACK_SHARE)));
      await waitFor(from + n, 10 * 60_000);
    }
    latencies.length = overheads.length = acks.length = 0;
    delivered = 0;
    let inFlightMax = 0;
    const cpuOf = (url: string) =>
      Promise.all([scrape(url, 'process_cpu_seconds_total'), scrape(url, 'process_cpu_system_seconds_total')]);
    const cpu0 = await Promise.all([cpuOf(gateway.url), cpuOf(worker.url)]);
    const turns0 = await scrape(worker.url, 'gateway_turns_total');
    const servers0 = serverCpuSeconds();
    const self0 = process.cpuUsage();
    const rssPeak = { gateway: 0, worker: 0 };
    const sampler = setInterval(() => {
      rssPeak.gateway = Math.max(rssPeak.gateway, rssMb(gateway.proc.pid));
      rssPeak.worker = Math.max(rssPeak.worker, rssMb(worker.proc.pid));
      inFlightMax = Math.max(inFlightMax, model.inFlight().now);
    }, 100);

    const t0 = performance.now();
    const done = waitFor(C * PER, 10 * 60_000);
    await Promise.all(
      Array.from({ length: C }, async (_, c) => {
        for (let m = 0; m < PER; m++) await send(c, m);
      }),
    );
    await done;
    const seconds = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    const cpu1 = await Promise.all([cpuOf(gateway.url), cpuOf(worker.url)]);
    const turns = (await scrape(worker.url, 'gateway_turns_total')) - turns0;
    const servers1 = serverCpuSeconds();
    const self = process.cpuUsage(self0);
    const msPerTurn = (seconds: number) => Math.round((seconds * 1000 * 100) / Math.max(1, turns)) / 100;
    // [total, system] CPU seconds per process; system time is mostly the kernel's loopback TCP work.
    const perTurn = (i: number, k = 0) => msPerTurn(cpu1[i]![k]! - cpu0[i]![k]!);
    console.log(
      JSON.stringify({
        node: process.versions.node,
        entry: env.ROLE_ENTRY === 'dist' ? 'dist' : 'tsx', // --dist, or --env ROLE_ENTRY=dist
        conversations: C,
        messages: C * PER,
        modelMs: Math.round(model.modelMs),
        seconds: Math.round(seconds * 100) / 100,
        latencyMs: { p50: pct(latencies, 50), p99: pct(latencies, 99) },
        overheadMs: { p50: pct(overheads, 50), p99: pct(overheads, 99) },
        ackMs: { p50: pct(acks, 50), p99: pct(acks, 99) },
        sendRetries,
        turns,
        workerCpuMsPerTurn: perTurn(1),
        gatewayCpuMsPerTurn: perTurn(0),
        systemCpuMsPerTurn: { gateway: perTurn(0, 1), worker: perTurn(1, 1) },
        // Where the rest of the machine's CPU went: this host's Redis and Postgres (null when not local), and this
        // process (the load generator, the fake model and the fake Slack).
        serverCpuMsPerTurn:
          servers0 && servers1
            ? {
                redis: msPerTurn(servers1.redis - servers0.redis),
                postgres: msPerTurn(servers1.postgres - servers0.postgres),
              }
            : null,
        benchCpuMsPerTurn: msPerTurn((self.user + self.system) / 1e6),
        rssMb: { gateway: rssPeak.gateway, worker: rssPeak.worker },
        inFlightMax,
      }),
    );
  } finally {
    sub.disconnect();
    for (const p of procs) await p.kill('SIGTERM');
    await slack.close();
    await model.close();
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
