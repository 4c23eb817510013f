/**
 * A clone of the repository is all a test run has: no tracked file under test/, src/, adapters/, bench/ or scripts/
 * may reference `../shared`, a relative path that climbs out of the repository, or an absolute path into a home
 * or workspace directory (this checkout's own location included). System locations (`/bin/sh`, `/usr/bin/…`,
 * `/var/lib/…`) are deliberate and allowed.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';

const root = execFileSync('git', ['rev-parse', '--show-toplevel'], { encoding: 'utf8' }).trim();
const files = execFileSync('git', ['ls-files', '-z', '--', 'test', 'src', 'adapters', 'bench', 'scripts'], {
  cwd: root,
  encoding: 'utf8',
})
  .split('\0')
  .filter((f) => /\.(ts|js|mjs|cjs|json|ya?ml|sh|txt|md|html|css)$/.test(f))
  .filter((f) => f !== 'test/repo-paths.test.ts'); // its own examples of what it refuses
const homes = /(?<![\w.])\/(?:home|root|Users|work|workspace|workspaces|mnt|srv)\/[\w.-]/;

export function offences(file: string, text: string): string[] {
  const found: string[] = [];
  text.split('\n').forEach((line, i) => {
    const at = `${file}:${i + 1}`;
    if (line.includes('../shared')) found.push(`${at}: ../shared`);
    if (line.includes(root) || line.includes(path.dirname(root) + '/'))
      found.push(`${at}: this checkout's absolute path`);
    if (homes.test(line)) found.push(`${at}: absolute path into a home or workspace directory`);
    for (const m of line.matchAll(/['"`]((?:\.\.\/)+[^'"`\s$]*)/g)) {
      // Compiled code runs from dist/<same path>: one level deeper, still inside the repository.
      const leaves = (dir: string) => path.relative(root, path.resolve(root, dir, m[1]!)).startsWith('..');
      if (leaves(path.dirname(file)) && leaves(path.join('dist', path.dirname(file))))
        found.push(`${at}: ${m[1]} leaves the repository`);
    }
  });
  return found;
}

it('no tracked source or test file reaches outside the repository', () => {
  expect(files.length).toBeGreaterThan(100);
  const found = files.flatMap((f) => offences(f, readFileSync(path.join(root, f), 'utf8')));
  expect(found).toEqual([]);
});

it('the guard recognises each kind of reference', () => {
  expect(offences('test/fakes/x.ts', "new URL('../../../../shared/fixtures/slack/', import.meta.url)")).toHaveLength(2);
  expect(offences('test/fakes/x.ts', "new URL('../../fixtures/slack/', import.meta.url)")).toEqual([]);
  expect(offences('src/x.ts', "readFileSync('/home/dev/data.json')")).toHaveLength(1);
  expect(offences('src/x.ts', `readFileSync('${root}/test/fixtures/a.json')`)).not.toEqual([]);
  expect(offences('src/x.ts', "spawn('/bin/sh'); const url = '/local/messages';")).toEqual([]);
});
