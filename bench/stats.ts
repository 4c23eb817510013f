/** Shared by the benchmarks: the p-th percentile (nearest rank), rounded to `decimals` places when given; 0 without samples. */
export function percentile(xs: number[], p: number, decimals?: number): number {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const v = s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
  if (decimals === undefined) return v;
  const f = 10 ** decimals;
  return Math.round(v * f) / f;
}

/** A counter's value summed over its labels, from a Prometheus text page. */
export async function scrape(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`))
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
