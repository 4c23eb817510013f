/**
 * Counts and times every memory-store operation for /metrics (`gateway_memory_operations_total`,
 * `gateway_memory_operation_seconds`), whichever store is behind it. A wrapper, so the stores stay plain.
 */
import { Counter, Histogram } from 'prom-client';
import { registry } from '../../observability/metrics.js';
import type { MemoryStore } from '../types.js';

const operations = new Counter({
  name: 'gateway_memory_operations_total',
  help: 'Memory store operations by store, operation (add, supersede, delete, search, list, share) and result (ok, error)',
  labelNames: ['store', 'op', 'result'] as const,
  registers: [registry],
});

const seconds = new Histogram({
  name: 'gateway_memory_operation_seconds',
  help: 'Memory store operation duration by store and operation',
  labelNames: ['store', 'op'] as const,
  buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
  registers: [registry],
});

export function instrumented(store: MemoryStore): MemoryStore {
  const timed =
    <A extends unknown[], R>(op: string, fn: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      const end = seconds.startTimer({ store: store.name, op });
      try {
        const r = await fn(...a);
        operations.inc({ store: store.name, op, result: 'ok' });
        return r;
      } catch (err) {
        operations.inc({ store: store.name, op, result: 'error' });
        throw err;
      } finally {
        end();
      }
    };
  return {
    name: store.name,
    add: timed('add', store.add.bind(store)),
    supersede: timed('supersede', store.supersede.bind(store)),
    delete: timed('delete', store.delete.bind(store)),
    search: timed('search', store.search.bind(store)),
    list: timed('list', store.list.bind(store)),
    setShared: timed('share', store.setShared.bind(store)),
  };
}
