/**
 * The chaos run behind `npm run chaos` and its reduced form in the test suite. Real processes (a gateway and
 * several workers), a Redis of its own with AOF (fsync always), an embedded Postgres of its own, messages through
 * the signed Slack Events ingress, replies to a loopback fake Slack. During the run it SIGKILLs workers, kills and
 * restarts Redis, and stops Postgres; at the end it checks that nothing was lost, duplicated or reordered.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import postgres from 'postgres';
import { freePort, startEmbeddedPostgres, startRedisServer, type DevService } from '../src/cli/dev-services.js';
import { migrate } from '../src/db/migrate.js';
import { FakeSlack } from '../test/fakes/slack/fake-slack.js';
import { signedHeaders } from '../test/fakes/slack/requests.js';
import { spawnRole, type RoleProcess } from '../test/helpers/processes.js';

export interface ChaosOptions {
  messages: number;
  conversations: number;
  workers: number;
  /** Spread the sends over this long, so the faults land mid-run. */
  sendSeconds: number;
  workerKillEveryMs: number;
  /**
   * Kill at least this many workers even if the send window closes first (a replacement worker's start-up on a
   * loaded machine can outlast the window); the later kills then land while replies are still being worked on.
   */
  minWorkerKills?: number;
  redisRestarts: number;
  dbOutageMs: number;
  log?: (line: string) => void;
}

export interface ChaosResult {
  messages: number;
  replies: number;
  lost: number;
  duplicates: number;
  orderViolations: number;
  workerKills: number;
  redisRestarts: number;
  dbOutages: number;
  idle: boolean;
  seconds: number;
}

const SECRET = 'chaos-signing-secret';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runChaos(o: ChaosOptions): Promise<ChaosResult> {
  const say = o.log ?? (() => undefined);
  const quiet = pino({ level: 'silent' });
  const dir = await mkdtemp(path.join(tmpdir(), 'chaos-'));
  // As root, what the postgres user cannot reach under `dir` (0700) goes here, removed with it at the end.
  const runtimeRoot = await mkdtemp(path.join(tmpdir(), 'chaos-pg-'));
  await chmod(runtimeRoot, 0o755);
  const prefix = 'chaos';
  const redisPort = await freePort();
  const pgPort = await freePort();
  let redis: DevService = await startRedisServer(dir, quiet, { port: redisPort, fsyncAlways: true });
  let pg: DevService = await startEmbeddedPostgres(dir, quiet, { port: pgPort, runtimeRoot });
  const sql = postgres(pg.url, { max: 1, onnotice: () => undefined });
  await migrate(sql);
  await sql.end();
  const slack = await new FakeSlack().start();
  const env = {
    NODE_ENV: 'production',
    DATABASE_URL: pg.url,
    REDIS_URL: redis.url,
    KEY_PREFIX: prefix,
    OFFLINE_MODEL: 'true',
    LOG_LEVEL: 'error',
    SLACK_BOT_TOKEN: 'xoxb-chaos',
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: slack.apiUrl,
    SLACK_BOT_USER_ID: 'UBOTCHAOS',
    JOB_LOCK_MS: '3000',
    SWEEP_INTERVAL_MS: '1000',
    WORKER_CONCURRENCY: '8',
    SHUTDOWN_GRACE_MS: '3000',
  };
  const procs = new Set<RoleProcess>();
  const spawn = async (role: 'gateway' | 'worker') => {
    for (;;) {
      try {
        const p = await spawnRole(role, env);
        procs.add(p);
        return p;
      } catch (err) {
        say(`respawn ${role} failed, retrying: ${(err as Error).message.split('\n')[0]}`);
        await sleep(1_000);
      }
    }
  };
  const started = Date.now();
  const counters = { workerKills: 0, redisRestarts: 0, dbOutages: 0 };
  // The fault loops restart servers: a run that fails midway must wait for them, or a restart lands after cleanup
  // and leaves a server behind.
  let chaosOn = true;
  const faultLoops: Promise<unknown>[] = [];
  try {
    const gateway = await spawn('gateway');
    const workers = await Promise.all(Array.from({ length: o.workers }, () => spawn('worker')));

    // --- faults, on timers during the send window ---
    const faults = (async () => {
      let next = 0;
      const more = () => chaosOn || counters.workerKills < (o.minWorkerKills ?? 0);
      while (more()) {
        await sleep(o.workerKillEveryMs);
        if (!more()) break;
        const victim = workers[next++ % workers.length]!;
        await victim.kill('SIGKILL');
        procs.delete(victim);
        counters.workerKills++;
        say(`SIGKILLed a worker (${counters.workerKills})`);
        workers[workers.indexOf(victim)] = await spawn('worker');
      }
    })();
    const windowMs = o.sendSeconds * 1000;
    const redisFaults = (async () => {
      for (let i = 0; i < o.redisRestarts; i++) {
        await sleep(windowMs * (0.3 / Math.max(1, o.redisRestarts)));
        await redis.stop('SIGKILL');
        say('killed Redis');
        await sleep(1_500);
        redis = await startRedisServer(dir, quiet, { port: redisPort, fsyncAlways: true });
        counters.redisRestarts++;
        say('Redis back');
      }
    })();
    const dbFaults = (async () => {
      if (!o.dbOutageMs) return;
      await sleep(windowMs * 0.5);
      await pg.stop();
      say('Postgres stopped');
      await sleep(o.dbOutageMs);
      pg = await startEmbeddedPostgres(dir, quiet, { port: pgPort, runtimeRoot });
      counters.dbOutages++;
      say('Postgres back');
    })();
    faultLoops.push(faults, redisFaults, dbFaults);

    // --- traffic: signed Slack DM events, retried like Slack retries until acknowledged ---
    const expected = new Map<string, string[]>();
    const perConv = Math.ceil(o.messages / o.conversations);
    let sent = 0;
    for (let i = 0; i < perConv && sent < o.messages; i++) {
      const round: Promise<void>[] = [];
      for (let c = 0; c < o.conversations && sent < o.messages; c++, sent++) {
        const channel = `D${String(c).padStart(5, '0')}`;
        const token = `c${c}-m${i}`;
        expected.set(channel, [...(expected.get(channel) ?? []), token]);
        const body = JSON.stringify({
          token: 'verification-token',
          team_id: 'TCHAOS',
          api_app_id: 'A1',
          type: 'event_callback',
          event_id: `Ev${c}x${i}`,
          event_time: Math.floor(Date.now() / 1000),
          event: {
            type: 'message',
            channel,
            channel_type: 'im',
            user: `U${c}`,
            text: token,
            ts: `${1_700_000_000 + i}.${String(c).padStart(6, '0')}`,
          },
        });
        round.push(
          (async () => {
            for (let attempt = 0; ; attempt++) {
              try {
                const res = await fetch(`${gateway.url}/slack/events`, {
                  method: 'POST',
                  headers: signedHeaders(SECRET, body, {
                    extra: attempt ? { 'x-slack-retry-num': String(attempt) } : {},
                  }),
                  body,
                });
                if (res.status === 200) return;
              } catch {
                /* gateway unreachable: retry */
              }
              await sleep(Math.min(2_000, 100 * 2 ** attempt));
            }
          })(),
        );
        // Sends within a conversation must be in order, so a round completes before the next starts.
      }
      await Promise.all(round);
      await sleep(windowMs / perConv);
    }
    chaosOn = false;
    await Promise.all(faultLoops);
    say('all messages acknowledged; waiting for replies');

    // --- wait for every message to be answered, then look for duplicates ---
    const answered = () => {
      const byChannel = new Map<string, string[]>();
      for (const call of slack.calls) {
        if (call.method !== 'chat.postMessage' || !call.ok) continue;
        const ch = String(call.body.channel);
        byChannel.set(ch, [...(byChannel.get(ch) ?? []), ...(String(call.body.text).match(/c\d+-m\d+/g) ?? [])]);
      }
      return byChannel;
    };
    const total = [...expected.values()].flat().length;
    const deadline = Date.now() + 180_000;
    while ([...answered().values()].flat().length < total && Date.now() < deadline) await sleep(500);
    await sleep(2_000);
    const got = answered();
    let lost = 0;
    let duplicates = 0;
    let orderViolations = 0;
    for (const [channel, tokens] of expected) {
      const seen = got.get(channel) ?? [];
      const counts = new Map<string, number>();
      for (const t of seen) counts.set(t, (counts.get(t) ?? 0) + 1);
      for (const t of tokens) if (!counts.has(t)) lost++;
      for (const [t, n] of counts) {
        if (n < 2) continue;
        duplicates += n - 1;
        // Same text twice is one part sent twice (delivery); different texts are two turns answering it.
        const posts = slack.calls.filter(
          (c) =>
            c.method === 'chat.postMessage' && c.ok && c.body.channel === channel && String(c.body.text).includes(t),
        );
        say(`duplicate ${t} in ${channel}: ${JSON.stringify(posts.map((c) => ({ at: c.at, text: c.body.text })))}`);
      }
      const firsts = [...new Set(seen)].map((t) => tokens.indexOf(t));
      for (let k = 1; k < firsts.length; k++) if (firsts[k]! < firsts[k - 1]!) orderViolations++;
    }
    const replies = slack.calls.filter((c) => c.method === 'chat.postMessage' && c.ok).length;

    // --- every conversation idle: no inbox entries, no turn or delivery jobs, no pending replies ---
    const r = new Redis(redis.url, { maxRetriesPerRequest: 3 });
    const inboxes = await r.scard(`${prefix}:inboxes`);
    const counts = await Promise.all(
      ['turns', 'outbound'].map(async (name) => {
        const q = new Queue(name, { connection: r, prefix: `${prefix}:bull` });
        const c = await q.getJobCounts('active', 'wait', 'delayed', 'failed');
        const n = Object.values(c).reduce((a, b) => a + b, 0);
        if (n) say(`not idle: queue ${name} ${JSON.stringify(c)}`);
        if (n && process.env.CHAOS_DEBUG) {
          for (const j of await q.getJobs(['active']))
            say(
              `not idle: active ${j.id} attempts=${j.attemptsMade} processedOn=${Date.now() - (j.processedOn ?? 0)}ms ago`,
            );
          await sleep(40_000);
          say(`not idle after 40 s: ${JSON.stringify(await q.getJobCounts('active', 'wait', 'delayed', 'failed'))}`);
        }
        return n;
      }),
    );
    const db = postgres(pg.url, { max: 1, onnotice: () => undefined });
    const [pending] = await db`select count(*)::int as n from outbox where status = 'pending'`;
    await db.end();
    r.disconnect();
    if (inboxes || pending!.n) say(`not idle: ${inboxes} inboxes, ${pending!.n} pending replies`);
    const idle = inboxes === 0 && counts.every((n) => n === 0) && pending!.n === 0;
    return {
      messages: total,
      replies,
      lost,
      duplicates,
      orderViolations,
      ...counters,
      idle,
      seconds: Math.round((Date.now() - started) / 100) / 10,
    };
  } finally {
    chaosOn = false;
    await Promise.allSettled(faultLoops);
    await Promise.all([...procs].map((p) => p.kill('SIGKILL')));
    await slack.close();
    await redis.stop().catch(() => undefined);
    await pg.stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    await rm(runtimeRoot, { recursive: true, force: true });
  }
}
