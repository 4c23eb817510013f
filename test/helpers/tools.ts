/**
 * External tools some tests drive (docker-compose, kubectl, Chromium). With `CI` set a missing tool fails those
 * tests — `.ci/test-tools` installs every one, so a missing tool there is a broken CI, not a reason to skip. Outside CI
 * they skip, as the README says.
 */
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

export const isCI = (env: NodeJS.ProcessEnv = process.env) =>
  !['', '0', 'false'].includes((env.CI ?? '').toLowerCase());

/** `cmd` on PATH (or an absolute path that exists). */
export function hasTool(cmd: string): boolean {
  return cmd.startsWith('/') ? existsSync(cmd) : !spawnSync(cmd, ['--help'], { stdio: 'ignore' }).error;
}

/** For `describe.skipIf(gate.skip)`; call `gate.require()` in beforeAll so CI fails with a clear message. */
export function toolGate(cmd: string, present = hasTool(cmd), ci = isCI()): { skip: boolean; require(): void } {
  return {
    skip: !present && !ci,
    require() {
      if (!present) throw new Error(`${cmd} is not installed: CI must have it (bash .ci/test-tools installs it)`);
    },
  };
}
