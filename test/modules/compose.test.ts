/**
 * Modules declare what they provide and require; composing the app checks it. The real app is composed with the
 * built-in modules (access requires memory and scheduler, listed after it), and broken compositions fail at start
 * with one sentence naming the modules.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { startApp } from '../../src/cli/app.js';
import { builtInModules } from '../../src/cli/modules.js';
import { checkModules, CompositionError } from '../../src/modules/compose.js';
import type { ModuleDefinition, ServiceName } from '../../src/modules/contract.js';
import { startTestApp } from '../helpers/app.js';
import { REDIS_URL, testConfig } from '../helpers/services.js';

// Service names no built-in module has: the checks work on names, so tests may use their own.
const svc = (name: string) => name as ServiceName;
const mod = (name: string, requires: string[] = [], provides: string[] = []): ModuleDefinition => ({
  name,
  requires: requires.map(svc),
  provides: provides.map(svc),
  create: () => ({ name, provides: Object.fromEntries(provides.map((p) => [p, { from: name }])) }),
});

const start = (extraModules: ModuleDefinition[]) =>
  startApp({
    config: testConfig(),
    role: 'all',
    log: pino({ level: 'silent' }),
    extraModules,
    // Never reached: a broken composition fails before anything is opened.
    databaseUrl: 'postgres://127.0.0.1:5432/never_opened',
    redisUrl: REDIS_URL,
  });

describe('module composition', () => {
  it('refuses to start when a module requires a service no module provides, in one sentence', async () => {
    await expect(start([mod('reports', ['billing'])])).rejects.toThrow(
      new CompositionError('Module "reports" requires "billing", which no module provides.'),
    );
  });

  it('refuses to start when modules require each other in a cycle, naming the cycle', async () => {
    await expect(start([mod('a', ['from-b'], ['from-a']), mod('b', ['from-a'], ['from-b'])])).rejects.toThrow(
      'Modules require each other in a cycle: a -> b -> a.',
    );
  });

  it('refuses two providers of one service, and a module that does not provide what it declared', async () => {
    expect(() => checkModules([...builtInModules, mod('second-memory', [], ['memory'])])).toThrow(
      'Modules "memory" and "second-memory" both provide "memory".',
    );
    const liar: ModuleDefinition = { name: 'liar', provides: [svc('x')], create: () => ({ name: 'liar' }) };
    await expect(start([liar])).rejects.toThrow('Module "liar" declares it provides "x" but did not.');
  });

  it('passes each module what it requires, built first, while hook order stays as listed', async () => {
    const seen: unknown[] = [];
    const order: string[] = [];
    const app = await startTestApp({
      extraModules: [
        {
          name: 'consumer',
          requires: [svc('feed')],
          create(_deps, services) {
            order.push('consumer');
            seen.push((services as Record<string, unknown>).feed);
            return { name: 'consumer' };
          },
        },
        {
          name: 'producer',
          provides: [svc('feed')],
          create() {
            order.push('producer');
            return { name: 'producer', provides: { feed: 42 } as never };
          },
        },
      ],
    });
    try {
      expect(order).toEqual(['producer', 'consumer']);
      expect(seen).toEqual([42]);
      // The built-in services reach tests the way they reach modules: the memory module's functions work.
      expect(await app.services.memory!.listMemories('local:default:nobody')).toEqual([]);
      expect(app.services.scheduler).toBeDefined();
    } finally {
      await app.close();
    }
  });
});
