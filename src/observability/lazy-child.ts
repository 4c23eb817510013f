/**
 * A child logger that is made only when it writes a line. pino's `child()` serialises its bindings at once, and
 * with wildcard redaction paths (REDACT_PATHS) each binding goes through the redactor: ~20 µs a child. A turn
 * and its delivery made five, and the gateway one per request, for lines that at the usual levels (info for the
 * worker's two per turn, warn for requests) are mostly never written: ~3% of a worker's CPU per turn.
 *
 * Everything but the line-writing methods and `child`/`bindings` is read from the parent (level, levels,
 * isLevelEnabled), so a level checked here is the parent's.
 */
import type { Bindings, ChildLoggerOptions, Logger } from 'pino';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;

export function lazyChild(parent: Logger, bindings: Bindings): Logger {
  let made: Logger | undefined;
  const real = () => (made ??= parent.child(bindings));
  const lazy = Object.create(parent) as Logger;
  for (const level of LEVELS) {
    lazy[level] = ((...args: Parameters<Logger['info']>) => {
      if (parent.isLevelEnabled(level)) real()[level](...args);
    }) as Logger['info'];
  }
  lazy.child = <C extends string = never>(b: Bindings, o?: ChildLoggerOptions<C>) => real().child(b, o);
  lazy.bindings = () => real().bindings();
  return lazy;
}
