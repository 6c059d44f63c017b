// What the harness reads about a proxy process from /proc: CPU time and resident memory.
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

let ticks = 0;
function clockTicks(): number {
  if (ticks > 0) return ticks;
  try {
    ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    ticks = 100;
  }
  return ticks;
}

/** utime + stime of a process, in ms; NaN when it cannot be read. */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    return ((utime + stime) * 1000) / clockTicks();
  } catch {
    return NaN;
  }
}

function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

export const rssMb = (pid: number): number => statusKb(pid, 'VmRSS') / 1024;
export const hwmMb = (pid: number): number => statusKb(pid, 'VmHWM') / 1024;

/** Samples VmRSS every intervalMs until stopped; reports the peak seen. */
export class RssSampler {
  private peak = 0;
  private readonly timer: NodeJS.Timeout;
  constructor(
    private readonly pid: number,
    intervalMs = 100,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }
  private sample(): void {
    const v = rssMb(this.pid);
    if (v > this.peak) this.peak = v;
  }
  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.peak;
  }
}

/** CPU time a process used while fn ran, its peak RSS meanwhile, and fn's result. */
export async function measured<T>(
  pid: number | null,
  fn: () => Promise<T>,
  sampleMs = 100,
): Promise<{ result: T; cpuMs: number | null; peakRssMb: number | null; rssBeforeMb: number | null }> {
  if (pid === null) return { result: await fn(), cpuMs: null, peakRssMb: null, rssBeforeMb: null };
  const rssBeforeMb = rssMb(pid);
  const sampler = new RssSampler(pid, sampleMs);
  const c0 = cpuMs(pid);
  const result = await fn();
  const c1 = cpuMs(pid);
  return { result, cpuMs: c1 - c0, peakRssMb: sampler.stop(), rssBeforeMb };
}
