/** The turn worker's in-flight limit under back-pressure (src/worker/backpressure.ts). */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { adaptConcurrency, DEFAULT_MAX_RSS_MB, defaultMaxRssMb, nextLimit } from '../../src/worker/backpressure.js';
import { until } from '../helpers/wait.js';

const limits = { max: 1000, maxRssMb: 500, maxLoopDelayMs: 200 };

describe('worker back-pressure', () => {
  it('halves the limit while over memory or lagging, and climbs back to the configured limit', () => {
    expect(nextLimit(1000, { rssMb: 600, loopDelayMs: 5 }, limits)).toBe(500);
    expect(nextLimit(500, { rssMb: 100, loopDelayMs: 900 }, limits)).toBe(250);
    expect(nextLimit(70, { rssMb: 900, loopDelayMs: 900 }, limits)).toBe(63); // never below max/16
    let n = 250;
    const steps: number[] = [];
    while (n < 1000) steps.push((n = nextLimit(n, { rssMb: 100, loopDelayMs: 5 }, limits)));
    expect(steps).toEqual([375, 500, 625, 750, 875, 1000]);
  });

  it("lowers a running worker's concurrency to its floor while the process is over its memory budget", async () => {
    const worker = { concurrency: 64 };
    const stop = adaptConcurrency(worker, {
      max: 64,
      maxRssMb: 1,
      maxLoopDelayMs: 0,
      sampleEveryMs: 20,
      log: pino({ level: 'silent' }),
    });
    try {
      await until(
        async () => worker.concurrency,
        (c) => c === 4,
        3_000,
      ); // halved down to max/16
    } finally {
      stop();
    }
  });

  it("budgets memory from the container's limit when WORKER_MAX_RSS_MB is unset", () => {
    const GiB = 1024 ** 3;
    // The worker's Kubernetes limit (deploy/base/worker.yaml, 768Mi) on a 24 GiB node: taking fewer turns starts at
    // 576 MB, well before the kernel's OOM kill at 768.
    expect(defaultMaxRssMb(768 * 1024 ** 2, 24 * GiB)).toBe(576);
    // No limit: Node reports 2^64 (or 0), or a limit larger than the machine.
    expect(defaultMaxRssMb(2 ** 64, 24 * GiB)).toBe(DEFAULT_MAX_RSS_MB);
    expect(defaultMaxRssMb(0, 24 * GiB)).toBe(DEFAULT_MAX_RSS_MB);
    expect(defaultMaxRssMb(64 * GiB, 24 * GiB)).toBe(DEFAULT_MAX_RSS_MB);
  });
});
