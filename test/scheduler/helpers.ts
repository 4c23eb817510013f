/** Shared set-up for the scheduler tests: the real app, plus the scheduler service its modules get. */
import postgres from 'postgres';
import type { AppOptions } from '../../src/cli/app.js';
import type { ModuleDeps } from '../../src/modules/contract.js';
import type { SchedulerCtx } from '../../src/scheduler/context.js';
import { checkinSchedulerId } from '../../src/scheduler/ids.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

export interface SchedulerTestApp {
  app: TestApp;
  deps: ModuleDeps;
  ctx: SchedulerCtx;
  sql: postgres.Sql;
  close(): Promise<void>;
}

export async function startSchedulerApp(
  opts: { env?: Record<string, string> } & Partial<AppOptions> = {},
): Promise<SchedulerTestApp> {
  const app = await startTestApp({ ...opts, env: { SCHEDULER_LEASE_TTL_MS: '3000', ...opts.env } });
  const ctx = app.services.scheduler!; // the scheduler module's own context, as the access module gets it
  const sql = postgres(app.db.url, { max: 2, onnotice: () => undefined });
  return {
    app,
    deps: ctx.deps,
    ctx,
    sql,
    async close() {
      await sql.end();
      await app.close();
    },
  };
}

/** Say something in a local DM, so the bot knows the conversation (its reference is stored with the turn). */
export async function dm(app: TestApp, user: string, text: string): Promise<{ status: number; body: any }> {
  return app.post('/local/messages', { conversation: `dm-${user}`, user, kind: 'dm', text, wait: true });
}

export const dmKey = (user: string) => `local:default:dm:${user}`;

export interface LocalReply {
  id: string;
  text: string;
}

/** What the bot posted in a local conversation (the local channel's own stream: the user's view). */
export async function posted(app: TestApp, channel: string): Promise<LocalReply[]> {
  const res = await fetch(`${app.url}/local/conversations/${channel}/messages`);
  return ((await res.json()) as { replies: LocalReply[] }).replies;
}

/** The job schedulers in Redis for our check-ins, by key (every key listed once per scheduler). */
export async function checkinSchedulers(ctx: SchedulerCtx): Promise<string[]> {
  const all = await ctx.queue.queue.getJobSchedulers(0, -1, true);
  return all.map((s) => s.key).filter((k) => k.startsWith('checkin:'));
}

export const schedulerKeyOf = checkinSchedulerId;

/** A 6-field cron pattern (with seconds, UTC) that fires once, at `at` (whole second), and again only a day later. */
export function cronAt(at: number): string {
  const d = new Date(at);
  return `${d.getUTCSeconds()} ${d.getUTCMinutes()} ${d.getUTCHours()} * * *`;
}

/** The next whole second at least `ms` from now. */
export const secondFromNow = (ms: number) => Math.ceil((Date.now() + ms) / 1000) * 1000;
