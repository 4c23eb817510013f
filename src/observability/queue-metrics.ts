/** Samples queue depth and lag for /metrics when Prometheus scrapes (no timers, no cost when nobody looks). */
import type { Queue } from 'bullmq';
import { queueDepth, queueLagSeconds } from './metrics.js';

export async function sampleQueues(queues: Queue[]): Promise<void> {
  await Promise.all(
    queues.map(async (q) => {
      const counts = await q.getJobCounts('wait', 'active', 'delayed', 'failed');
      for (const [state, n] of Object.entries(counts)) queueDepth.set({ queue: q.name, state }, n);
      const [oldest] = await q.getJobs(['wait'], 0, 0, true);
      queueLagSeconds.set({ queue: q.name }, oldest ? Math.max(0, (Date.now() - oldest.timestamp) / 1000) : 0);
    }),
  );
}
