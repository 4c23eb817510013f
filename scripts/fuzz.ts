/**
 * `npm run fuzz`: the ingress fuzz suite (test/fuzz) with many more runs and a random seed, printed first so a
 * failure can be replayed: `FUZZ_SEED=<seed> FUZZ_RUNS=<runs> npm run fuzz`. FUZZ_SHRINK=1 (the default here)
 * shrinks a failing input to a minimal one.
 */
import { spawnSync } from 'node:child_process';

const seed = process.env.FUZZ_SEED ?? String(Math.floor(Math.random() * 2 ** 31));
const runs = process.env.FUZZ_RUNS ?? '300';
console.log(`fuzz: FUZZ_SEED=${seed} FUZZ_RUNS=${runs}`);
const res = spawnSync('npx', ['vitest', 'run', 'test/fuzz'], {
  stdio: 'inherit',
  env: { ...process.env, FUZZ_SEED: seed, FUZZ_RUNS: runs, FUZZ_SHRINK: process.env.FUZZ_SHRINK ?? '1' },
});
console.log(`fuzz: replay with FUZZ_SEED=${seed} FUZZ_RUNS=${runs} npm run fuzz`);
process.exit(res.status ?? 1);
