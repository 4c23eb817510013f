/**
 * A platform's typing sign fades after a few seconds, so it is shown again until the reply is out. The next call
 * is scheduled only after the previous one settled, so a slow platform never gets calls piling up.
 */

export interface TypingLoop {
  /** Settles when the first call has (callers that must not start the reply before the sign shows await it). */
  first: Promise<void>;
  /** Stops the loop; idempotent, never throws. */
  stop(): Promise<void>;
}

/** `show` is called now and every `intervalMs` until stopped; it returns false to stop by itself (chat gone). */
export function keepTyping(show: () => Promise<boolean | void>, intervalMs: number): TypingLoop {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = async (): Promise<void> => {
    // `show` is best effort by contract, but a throw must not end the loop unnoticed or reject `first`.
    const again = await show().catch(() => true);
    if (stopped || again === false) return;
    timer = setTimeout(() => void tick(), intervalMs);
    timer.unref?.();
  };
  return {
    first: tick(),
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
