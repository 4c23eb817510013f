/**
 * The one timer loop for periodic work (sweeps, reconcile passes): runs `run` every `everyMs`, never two at once
 * (the next run is timed from the end of the last), logs a failure and carries on. `stop` waits for a run in flight.
 */
import type { Logger } from 'pino';
import { safeErr } from './safe-error.js';

export interface PeriodicOptions {
  /** For the failure log line ("<what> failed; will retry"). */
  what: string;
  /** Run once right away instead of after the first interval. */
  runNow?: boolean;
}

export function startPeriodic(
  run: () => Promise<unknown>,
  everyMs: number,
  log: Logger,
  o: PeriodicOptions,
): () => Promise<void> {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;
  const tick = () => {
    if (stopped) return;
    inFlight = run()
      .then(
        () => undefined,
        (err: Error) => log.warn({ err: safeErr(err) }, `${o.what} failed; will retry`),
      )
      .finally(() => {
        inFlight = undefined;
        if (!stopped) {
          timer = setTimeout(tick, everyMs);
          timer.unref?.();
        }
      });
  };
  if (o.runNow) tick();
  else {
    timer = setTimeout(tick, everyMs);
    timer.unref?.();
  }
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await inFlight;
  };
}
