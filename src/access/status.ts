/**
 * `/status` for admins: version, uptime, queue depths and lag, worker count, each channel's connection state and
 * whether the bot is paused. Read from the process answering the command (a gateway) and from Redis, which every
 * process shares.
 */
import type { Queue } from 'bullmq';
import type { AdapterRegistry } from '../core/registry.js';
import type { Queues } from '../queue/queues.js';
import type { PauseState } from './pause.js';

export interface QueueStatus {
  name: string;
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  /** Age of the oldest waiting job. */
  lagMs: number;
  workers: number;
}

export async function queueStatus(q: Queue, now = Date.now()): Promise<QueueStatus> {
  const [counts, [oldest], workers] = await Promise.all([
    q.getJobCounts('wait', 'active', 'delayed', 'failed'),
    q.getJobs(['wait'], 0, 0, true),
    q.getWorkers().then(
      (w) => w.length,
      () => -1,
    ), // CLIENT LIST may be forbidden on managed Redis
  ]);
  return {
    name: q.name,
    waiting: counts.wait ?? 0,
    active: counts.active ?? 0,
    delayed: counts.delayed ?? 0,
    failed: counts.failed ?? 0,
    lagMs: oldest ? Math.max(0, now - oldest.timestamp) : 0,
    workers,
  };
}

function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  return h < 48 ? `${h}h ${m % 60}m` : `${Math.floor(h / 24)}d ${h % 24}h`;
}

export async function statusText(o: {
  version: string;
  queues: Queues;
  adapters: AdapterRegistry;
  pause: PauseState | null;
  uptimeMs: number;
}): Promise<string> {
  const qs = await Promise.all([queueStatus(o.queues.turns), queueStatus(o.queues.outbound)]);
  const lines = [
    `**Status** — version ${o.version}, up ${duration(o.uptimeMs)}${o.pause ? `, **paused** since ${o.pause.at} by ${o.pause.by}` : ''}`,
    ...qs.map(
      (q) =>
        `- queue \`${q.name}\`: ${q.waiting} waiting, ${q.active} active, ${q.delayed} delayed, ${q.failed} failed; lag ${duration(q.lagMs)}; ${q.workers < 0 ? 'workers unknown' : `${q.workers} worker${q.workers === 1 ? '' : 's'}`}`,
    ),
    ...o.adapters.all().map((a) => {
      const h = a.health();
      return `- channel \`${a.platform}\`: ${h.state}${h.detail ? ` (${h.detail})` : ''}`;
    }),
  ];
  return lines.join('\n');
}
