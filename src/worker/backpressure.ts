/**
 * Back-pressure for the turn worker. Turns are I/O-bound (most of a turn is waiting for the model), so a worker
 * runs many at once: up to WORKER_CONCURRENCY, the in-flight limit. What it can really carry depends on its CPU
 * and memory, so the limit BullMQ applies adapts: halved while the process is over its memory budget or its event
 * loop lags (CPU saturated: more turns would only make every turn slower), raised again step by step once it is
 * healthy (AIMD, as TCP does). A lowered limit only stops taking new jobs; turns already running finish, and the
 * jobs left waiting go to other workers.
 */
import { startPeriodic } from '../core/periodic.js';
import { totalmem } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Logger } from 'pino';

export interface BackpressureOptions {
  /** The configured in-flight limit (WORKER_CONCURRENCY): never exceeded. */
  max: number;
  /** Resident memory above which the limit is halved (WORKER_MAX_RSS_MB); 0: memory is not watched. */
  maxRssMb: number;
  /**
   * Event-loop delay (p99 over a sample) above which the limit is halved (WORKER_MAX_LOOP_DELAY_MS); 0: off. Off by
   * default: on a shared host other processes lag the loop too, and fewer turns then only cost throughput.
   */
  maxLoopDelayMs: number;
  sampleEveryMs?: number;
  log: Logger;
}

/** WORKER_MAX_RSS_MB when unset and the process has no memory limit. */
export const DEFAULT_MAX_RSS_MB = 1536;

/**
 * The memory budget when WORKER_MAX_RSS_MB is unset: three quarters of the container's memory limit (cgroup), so
 * the worker takes fewer turns well before the kernel kills it (the rest is for what grows between two samples: the
 * young generation, sockets, a burst of turns already taken); without a limit, DEFAULT_MAX_RSS_MB.
 */
export function defaultMaxRssMb(constrainedBytes = process.constrainedMemory(), totalBytes = totalmem()): number {
  // Without a limit Node reports a huge number (2^64 on Linux) or 0; a limit above the machine's memory is none.
  const limited = constrainedBytes > 0 && constrainedBytes < totalBytes;
  return limited ? Math.floor((constrainedBytes / 1_048_576) * 0.75) : DEFAULT_MAX_RSS_MB;
}

export interface Sample {
  rssMb: number;
  loopDelayMs: number;
}

/**
 * The next limit from the current one and a sample: halve when overloaded, else add max/8 (at least 1). Never
 * below max/16: a lag caused by a noisy neighbour must not leave an I/O-bound worker running one turn at a time.
 */
export function nextLimit(
  current: number,
  s: Sample,
  o: Pick<BackpressureOptions, 'max' | 'maxRssMb' | 'maxLoopDelayMs'>,
): number {
  const overMemory = o.maxRssMb > 0 && s.rssMb > o.maxRssMb;
  const lagging = o.maxLoopDelayMs > 0 && s.loopDelayMs > o.maxLoopDelayMs;
  if (overMemory || lagging) return Math.max(Math.ceil(o.max / 16), Math.floor(current / 2));
  return Math.min(o.max, current + Math.max(1, Math.ceil(o.max / 8)));
}

/** Adapts `target.concurrency` (a BullMQ Worker) until the returned stop function is called. */
export function adaptConcurrency(target: { concurrency: number }, o: BackpressureOptions): () => void {
  if (!o.maxRssMb && !o.maxLoopDelayMs) return () => undefined;
  // The budget may come from the container's limit (defaultMaxRssMb): say which one applies.
  o.log.info({ limit: o.max, maxRssMb: o.maxRssMb, maxLoopDelayMs: o.maxLoopDelayMs }, 'back-pressure on');
  // Its sampling timer wakes the process 50 times a second: only while the delay is watched.
  const delay = o.maxLoopDelayMs ? monitorEventLoopDelay({ resolution: 20 }) : undefined;
  delay?.enable();
  const stop = startPeriodic(
    async () => {
      const sample = { rssMb: process.memoryUsage.rss() / 1_048_576, loopDelayMs: (delay?.percentile(99) ?? 0) / 1e6 };
      delay?.reset();
      const before = target.concurrency;
      const next = nextLimit(before, sample, o);
      if (next === before) return;
      target.concurrency = next;
      // Only the turn into and out of overload is worth a line; the steps up in between are not.
      if (next < before)
        o.log.warn(
          { limit: next, rssMb: Math.round(sample.rssMb), loopDelayMs: Math.round(sample.loopDelayMs) },
          'worker overloaded: taking fewer turns',
        );
      else if (next === o.max) o.log.info({ limit: next }, 'worker back to its full in-flight limit');
    },
    o.sampleEveryMs ?? 1_000,
    o.log,
    { what: 'back-pressure sample' },
  );
  return () => {
    void stop();
    delay?.disable();
  };
}
