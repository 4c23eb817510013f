/**
 * The layering the module seams rely on, checked over the import specifiers of every source file (type-only
 * imports included: a type cycle is a design cycle too). Specifiers are read with the TypeScript compiler's own
 * pre-processor (no dependency-graph library is installed); only relative imports are followed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => path.relative(ROOT, path.join(e.parentPath, e.name)));
}

/** Relative imports of one file, as repo-relative .ts paths. */
function importsOf(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(readFileSync(path.join(ROOT, file), 'utf8'), true, true);
  return importedFiles
    .map((f) => f.fileName)
    .filter((s) => s.startsWith('.'))
    .map((s) => path.relative(ROOT, path.resolve(ROOT, path.dirname(file), s)).replace(/\.js$/, '.ts'));
}

const files = [...sourceFiles('src'), ...sourceFiles('adapters')];
const graph = new Map(files.map((f) => [f, importsOf(f)]));

/** Every cycle found by a depth-first walk, each as the path that closes it. */
function cycles(): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (f: string) => {
    state.set(f, 'open');
    stack.push(f);
    for (const next of graph.get(f) ?? []) {
      if (state.get(next) === 'open') found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next) && graph.has(next)) visit(next);
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of files) if (!state.has(f)) visit(f);
  return found;
}

describe('layering', () => {
  it('reads the imports it checks (the scan is not vacuous)', () => {
    expect(graph.get('src/cli/app.ts')).toContain('src/modules/compose.ts');
    expect(files.filter((f) => f.startsWith('src/core/')).length).toBeGreaterThan(5);
  });

  it('src/core depends on nothing else in the project', () => {
    const outward = files
      .filter((f) => f.startsWith('src/core/'))
      .flatMap((f) =>
        importsOf(f)
          .filter((i) => !i.startsWith('src/core/'))
          .map((i) => `${f} -> ${i}`),
      );
    expect(outward).toEqual([]);
  });

  it('has no import cycles in src/ and adapters/', () => {
    expect(cycles().map((c) => c.join(' -> '))).toEqual([]);
  });

  it('names no platform in the pipeline stages: what differs per channel is a capability its adapter declares', () => {
    const stages = /^src\/(ingress|queue|worker|outbound)\/|^src\/access\/(policy|gate)\.ts$/;
    const platformLiteral = /['`](local|api|slack|discord|telegram)(:[^'`]*)?['`]/;
    const offenders = files
      .filter((f) => stages.test(f))
      .flatMap((f) =>
        readFileSync(path.join(ROOT, f), 'utf8')
          .split('\n')
          .map((line, i) => ({ line: line.replace(/\/\/.*$|^\s*\*.*$/, ''), at: `${f}:${i + 1}` }))
          .filter((l) => platformLiteral.test(l.line))
          .map((l) => l.at),
      );
    expect(offenders).toEqual([]);
  });

  it('keeps the pipeline off adapter internals: observability and the agent import no adapter or module', () => {
    const offenders = files
      .filter((f) => f.startsWith('src/observability/') || f.startsWith('src/agent/'))
      .flatMap((f) =>
        importsOf(f)
          .filter((i) => /^(adapters|src\/(scheduler|memory|access|api))\//.test(i))
          .map((i) => `${f} -> ${i}`),
      );
    expect(offenders).toEqual([]);
  });
});
