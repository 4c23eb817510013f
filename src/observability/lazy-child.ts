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
/** The real logger a lazy one reads from, so a lazy child of a lazy child still inherits from a real logger. */
const ROOT = Symbol('lazy-child root');
type Lazy = Logger & { [ROOT]?: Logger };

export function lazyChild(parent: Logger, bindings: Bindings): Logger {
  let made: Logger | undefined;
  const real = () => (made ??= parent.child(bindings));
  // Inherit from the real logger, never from another lazy one: an object first used as a prototype costs V8
  // ~15 µs to set up, and a turn's logger is the child of a job's lazy logger.
  const root = (parent as Lazy)[ROOT] ?? parent;
  const lazy = Object.create(root) as Lazy;
  lazy[ROOT] = root;
  for (const level of LEVELS) {
    lazy[level] = ((...args: Parameters<Logger['info']>) => {
      if (root.isLevelEnabled(level)) real()[level](...args);
    }) as Logger['info'];
  }
  lazy.child = <C extends string = never>(b: Bindings, o?: ChildLoggerOptions<C>) => real().child(b, o);
  lazy.bindings = () => real().bindings();
  return lazy;
}
