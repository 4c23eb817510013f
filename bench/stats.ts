import { readdirSync, readFileSync } from 'node:fs';

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

/**
 * CPU seconds used so far by this host's Redis and Postgres servers (every process named redis-server or postgres,
 * plus what exited Postgres backends left in their parent's account), read from /proc; null where there is none
 * (Linux only, and only when the servers run on this machine). A benchmark's "where does the time go" needs them:
 * on a small machine they share the cores with the gateway and worker.
 */
export function serverCpuSeconds(): { redis: number; postgres: number } | null {
  const tick = 100; // USER_HZ: 100 on every Linux the kernel ABI promises /proc in
  const sums = { redis: 0, postgres: 0 };
  let found = false;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return null;
  }
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const which = comm === 'redis-server' ? 'redis' : comm === 'postgres' ? 'postgres' : null;
    if (!which) continue;
    // Fields after the command: state is field 3, utime 14, stime 15, cutime 16, cstime 17.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    sums[which] += (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / tick;
    found = true;
  }
  return found ? sums : null;
}
