/** Shared by the benchmarks: the p-th percentile (nearest rank), rounded to `decimals` places when given; 0 without samples. */
export function percentile(xs: number[], p: number, decimals?: number): number {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const v = s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
  if (decimals === undefined) return v;
  const f = 10 ** decimals;
  return Math.round(v * f) / f;
}
