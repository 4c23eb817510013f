/**
 * What a one-message turn costs the stores, counted on the app's own connections: the turn reads its state,
 * history and every module's data (access standing and budget, routed agent and its budget, a pending approval)
 * in one statement, commits in one statement that also writes the modules' usage, and starts and ends with one
 * Redis script each.
 * Fewer round trips is what lets a worker carry many turns at once (README, "Sizing workers").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { monitorRedis, type RedisMonitor } from '../helpers/monitor.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { REDIS_URL } from '../helpers/services.js';

const TURNS = 5;
/** Statements sent by the app, with the connection that sent them (a transaction stays on one). */
const sent: { conn: number; query: string; params: string }[] = [];
/** Redis commands naming the app's keys (not those a script runs itself). */
const commands: string[][] = [];

let app: TestApp;
let monitor: RedisMonitor | undefined;
beforeAll(async () => {
  app = await startTestApp({ env: { USER_DAILY_TOKEN_BUDGET: '1000000', RATE_LIMIT_PER_MINUTE: '0' } });
  // postgres.js reads `debug` on every query: every statement of the app's pool is seen from here on.
  const options = app.database.sql.options as unknown as { debug?: unknown };
  options.debug = (conn: number, query: string, params: unknown[]) =>
    sent.push({ conn, query, params: JSON.stringify(params) });
  const prefix = `${app.config.KEY_PREFIX}:`;
  monitor = await monitorRedis(REDIS_URL, (args, source) => {
    if (source !== 'lua' && args.some((a) => a.startsWith(prefix))) commands.push(args);
  });
  for (let i = 0; i < TURNS; i++) {
    const res = await app.post('/local/messages', { conversation: `rt-${i}`, user: `rt-${i}`, text: 'hi', wait: true });
    expect(res.body.replies).toHaveLength(1);
  }
  // Whatever a turn still does after its reply left (the inbox ack) has landed.
  await new Promise((r) => setTimeout(r, 500));
  monitor.close();
}, 60_000);
afterAll(async () => {
  monitor?.close();
  await app?.close();
});

/** The turns' own statements (their parameters name the conversation or its person), not the sweeper's. */
const turnStatements = () => sent.filter((s) => /rt-\d/.test(s.params));

describe('a one-message turn', () => {
  it('reads once before the model and once to deliver (plus memory recall), whatever modules are on', () => {
    const selects = turnStatements().filter((s) => /^\s*select/i.test(s.query));
    // The turn's read, the memory recall, the delivery's page of replies (a delivery job that runs twice reads its
    // page again: one to spare). Reading each module's data on its own took 7-8.
    expect(selects.length / TURNS).toBeLessThanOrEqual(4);
  });

  it("commits in one statement, with the person's and the agent's usage in it, and no transaction", () => {
    const commits = turnStatements().filter((s) => /^\s*with fence as/i.test(s.query));
    expect(commits).toHaveLength(TURNS);
    for (const c of commits) {
      expect(c.query).toContain('insert into "access_usage"');
      expect(c.query).toContain('insert into "agent_usage"');
    }
    // One text for all of them: prepared once per connection (the values are parameters, rows a JSON array).
    expect(new Set(commits.map((c) => c.query)).size).toBe(1);
    // Nothing of the turn is written beside it, and no BEGIN / COMMIT round trips.
    const beside = turnStatements().filter((s) =>
      /^\s*(insert into|update) "?(turns|outbox|session_items|inbound_messages|conversations|access_usage|agent_usage)\b/i.test(
        s.query,
      ),
    );
    expect(beside).toEqual([]);
    expect(sent.filter((s) => /^\s*(begin|commit)\b/i.test(s.query))).toEqual([]);
  });

  it("builds its Redis transactions on a connection that carries only the gateway's own scripts", () => {
    // ioredis copies every script defined on a connection onto each multi built from it: with BullMQ's ~50 there,
    // each of a turn's transactions cost 56 µs instead of 9. The queues have their own connection.
    const scripts = Object.keys((app.redis as unknown as { scriptsSet: object }).scriptsSet);
    expect(scripts.length).toBeGreaterThan(0); // the turns above ran the inbox scripts on it
    expect(scripts.filter((name) => !name.startsWith('gw'))).toEqual([]);
  });

  it('starts with one Redis script and keeps its model output with one write', () => {
    const keptOps = commands.filter((c) => c.some((a) => a.includes(':modelout:')));
    // The kept output is read by the start script and deleted by the ack script: one SET is all that is left.
    expect(keptOps.filter((c) => c[0]!.toLowerCase() === 'set')).toHaveLength(TURNS);
    expect(keptOps.filter((c) => !/^eval(sha)?$/i.test(c[0]!) && c[0]!.toLowerCase() !== 'set')).toEqual([]);
    // The queued flag and the inbox are read by the start script, never by separate commands.
    const loose = commands.filter((c) => /^(del|xrange|get)$/i.test(c[0]!) && c.some((a) => /:(turnq|inbox):/.test(a)));
    expect(loose).toEqual([]);
  });
});
