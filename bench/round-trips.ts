/**
 * `npm run bench:round-trips -- [--turns 200]`
 *
 * What one turn costs in round trips: a gateway and a worker process on a redis-server of its own (spawned on a
 * free port, so MONITOR sees only this run) and a fresh database, `--turns` one-message conversations through the
 * local channel with the offline model. Counts every Redis command per turn (by name, from MONITOR) and the
 * database's work per turn from its statistics views (transactions, index scans and rows written per table):
 * the shared server has no statement log, and pg_stat_statements needs a restart to load. Background work (the
 * sweeper, BullMQ's timers) is included, so short runs over-count slightly. Prints one JSON line last.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import postgres from 'postgres';
import { startRedisServer } from '../src/cli/dev-services.js';
import { spawnRole, type RoleProcess } from '../test/helpers/processes.js';
import { createTestDatabase } from '../test/helpers/services.js';
import { monitorRedis } from '../test/helpers/monitor.js';

const { values } = parseArgs({ options: { turns: { type: 'string', default: '200' } } });
const TURNS = Number(values.turns);

async function dbCounters(url: string) {
  const sql = postgres(url, { max: 1, onnotice: () => undefined });
  try {
    await sql`select pg_stat_force_next_flush()`.catch(() => undefined);
    const [db] = await sql`select xact_commit::int as commits, xact_rollback::int as rollbacks
      from pg_stat_database where datname = current_database()`;
    const tables = await sql`select relname, coalesce(idx_scan, 0)::int as idx, seq_scan::int as seq,
      n_tup_ins::int as ins, n_tup_upd::int as upd, n_tup_del::int as del from pg_stat_user_tables`;
    return { commits: db!.commits as number, tables: new Map(tables.map((t) => [t.relname as string, t])) };
  } finally {
    await sql.end();
  }
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'round-trips-'));
  const redis = await startRedisServer(dir, pino({ level: 'silent' }));
  const db = await createTestDatabase();
  const prefix = 'rt';
  const env = {
    DATABASE_URL: db.url,
    REDIS_URL: redis.url,
    KEY_PREFIX: prefix,
    OFFLINE_MODEL: 'true',
    LOG_LEVEL: 'error',
    RATE_LIMIT_PER_MINUTE: '0',
    BOT_LOOP_MAX_REPLIES_PER_MINUTE: '0',
    // Memory extraction is a debounced job per person, not part of a turn: kept out of the window it measures.
    MEMORY_EXTRACT_DELAY_MS: '600000',
  };
  const procs: RoleProcess[] = [];
  const sub = new Redis(redis.url);
  try {
    procs.push(await spawnRole('gateway', env, 120_000));
    procs.push(await spawnRole('worker', env, 120_000));
    const [gateway] = procs;
    let delivered = 0;
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    sub.on('message', () => ++delivered === TURNS && done());
    await sub.subscribe(`${prefix}:delivered`);
    await new Promise((r) => setTimeout(r, 1_000)); // start-up writes flushed to the statistics first
    const before = await dbCounters(db.url);
    const commands = new Map<string, number>();
    const m = await monitorRedis(redis.url, (args, source) => {
      if (source === 'lua') return; // commands a script runs are not round trips
      const name = String(args[0]).toLowerCase();
      // evalsha: name the script by its first key's kind (BullMQ's and ours look alike otherwise).
      const kind = String(args[3] ?? '')
        .split(':')
        .slice(-1)[0]!
        .replace(/\d+/g, '#');
      const key = name === 'evalsha' || name === 'eval' ? `${name} ${kind}` : name;
      commands.set(key, (commands.get(key) ?? 0) + 1);
    });
    for (let i = 0; i < TURNS; i++) {
      const res = await fetch(`${gateway!.url}/local/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ conversation: `rt${i}`, user: `u${i}`, text: `message ${i}`, id: `rt${i}` }),
      });
      await res.arrayBuffer();
    }
    await finished;
    await new Promise((r) => setTimeout(r, 1_500)); // deliveries' last writes, statistics flushed
    m.close();
    const after = await dbCounters(db.url);
    const per = (n: number) => Math.round((n / TURNS) * 100) / 100;
    const redisPerTurn = Object.fromEntries([...commands].sort((a, b) => b[1] - a[1]).map(([k, n]) => [k, per(n)]));
    const tables: Record<string, Record<string, number>> = {};
    for (const [name, t] of after.tables) {
      const b = before.tables.get(name);
      const d = (f: string) => per(Number(t[f]) - Number(b?.[f] ?? 0));
      const row = { idxScans: d('idx'), seqScans: d('seq'), inserted: d('ins'), updated: d('upd'), deleted: d('del') };
      if (Object.values(row).some((v) => v > 0)) tables[name] = row;
    }
    console.log(
      JSON.stringify({
        turns: TURNS,
        redisCommandsPerTurn: per([...commands.values()].reduce((a, b) => a + b, 0)),
        redis: redisPerTurn,
        dbTransactionsPerTurn: per(after.commits - before.commits),
        tables,
      }),
    );
  } finally {
    sub.disconnect();
    for (const p of procs) await p.kill('SIGTERM');
    await redis.stop();
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
