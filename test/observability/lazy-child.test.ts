/**
 * Per-turn and per-request loggers are made only when they write (src/observability/lazy-child.ts): the lines
 * they do write are the same as a pino child's, bindings and redaction included, at the parent's level.
 */
import { describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/observability/logger.js';
import { lazyChild } from '../../src/observability/lazy-child.js';

function capture(level = 'info') {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger(level, 'lazy-test', { write: (l: string) => void lines.push(JSON.parse(l)) }, 'worker');
  return { log, lines };
}
const strip = ({ time: _t, ...rest }: Record<string, unknown>) => rest;

describe('lazy child logger', () => {
  it('writes the same lines as a pino child, bindings redacted the same way', () => {
    const a = capture();
    const b = capture();
    const bindings = { turnId: 't1', event: { text: 'what the user said', id: 'e1' } };
    a.log.child(bindings).info({ parts: 2 }, 'reply delivered');
    lazyChild(b.log, bindings).info({ parts: 2 }, 'reply delivered');
    lazyChild(b.log, { turnId: 't2' }).warn(new Error('boom'), 'failed');
    expect(b.lines.map(strip)[0]).toEqual(a.lines.map(strip)[0]);
    expect(JSON.stringify(b.lines)).not.toContain('what the user said');
    expect(b.lines[1]).toMatchObject({ turnId: 't2', level: 40, msg: 'failed', role: 'worker' });
  });

  it('makes no child while nothing is written at the current level, and follows the parent level', () => {
    const { log, lines } = capture('warn');
    const child = vi.spyOn(log, 'child');
    const lazy = lazyChild(log, { job: '7' });
    lazy.info('not written');
    lazy.debug('not written');
    expect(child).not.toHaveBeenCalled();
    expect(lazy.isLevelEnabled('info')).toBe(false);
    log.level = 'info';
    lazy.info('now written');
    expect(child).toHaveBeenCalledTimes(1);
    lazy.info('again');
    expect(child).toHaveBeenCalledTimes(1); // made once, then reused
    lazy.child({ part: 1 }).info('nested');
    expect(lines.map((l) => [l.msg, l.job, l.part])).toEqual([
      ['now written', '7', undefined],
      ['again', '7', undefined],
      ['nested', '7', 1],
    ]);
  });

  it('nests: a lazy child of a lazy child writes both bindings, and still inherits from the real logger', () => {
    const { log, lines } = capture('info');
    const child = vi.spyOn(log, 'child');
    const job = lazyChild(log, { job: '7' });
    const turn = lazyChild(job, { turnId: 't1' });
    turn.debug('not written');
    expect(child).not.toHaveBeenCalled();
    turn.info('written');
    expect(lines.map((l) => [l.msg, l.job, l.turnId])).toEqual([['written', '7', 't1']]);
    // A fresh object used as a prototype costs V8 ~15 µs to set up: a turn's logger must not be one.
    expect(Object.getPrototypeOf(turn)).toBe(log);
    log.level = 'debug';
    turn.debug('now written');
    expect(lines).toHaveLength(2);
  });
});
