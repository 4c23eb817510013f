/** The SQL in migrations/ is what drizzle-kit generates from the schema files: nothing is left to generate. */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

describe('migrations', () => {
  it('are in step with the drizzle schema (drizzle-kit finds no changes to generate)', () => {
    // Inside the project (git-ignored): drizzle-kit reads --out relative to the working directory.
    mkdirSync('test-artifacts', { recursive: true });
    const out = mkdtempSync(path.join('test-artifacts', 'mig-'));
    try {
      cpSync('migrations', out, { recursive: true });
      const before = readdirSync(out).sort();
      const log = execFileSync(
        'npx',
        ['drizzle-kit', 'generate', '--dialect', 'postgresql', '--schema', './src/*/schema.ts', '--out', out],
        { encoding: 'utf8' },
      );
      expect(log).toContain('No schema changes');
      expect(readdirSync(out).sort()).toEqual(before);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
