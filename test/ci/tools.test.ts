/** With CI set, a test whose external tool is missing fails; only outside CI does it skip (README, "Tests"). */
import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';
import { isCI, toolGate } from '../helpers/tools.js';

it('a missing tool skips outside CI and fails in CI, naming the tool', () => {
  expect(toolGate('no-such-tool-7f3a', undefined, false).skip).toBe(true);
  const inCi = toolGate('no-such-tool-7f3a', undefined, true);
  expect(inCi.skip).toBe(false);
  expect(() => inCi.require()).toThrow(/^no-such-tool-7f3a is not installed: CI must have it/);
  expect(() => toolGate('sh', undefined, true).require()).not.toThrow();
  expect([isCI({ CI: 'true' }), isCI({ CI: '1' }), isCI({ CI: 'false' }), isCI({})]).toEqual([
    true,
    true,
    false,
    false,
  ]);
});

it('.ci/test-tools is valid bash and is what .ci/run calls before the tests', () => {
  expect(spawnSync('bash', ['-n', '.ci/test-tools']).status).toBe(0);
  const run = spawnSync('cat', ['.ci/run'], { encoding: 'utf8' }).stdout;
  expect(run.indexOf('bash .ci/test-tools')).toBeGreaterThan(-1);
  expect(run.indexOf('bash .ci/test-tools')).toBeLessThan(run.indexOf('npm test'));
  expect(run).not.toMatch(/will be skipped/);
});
