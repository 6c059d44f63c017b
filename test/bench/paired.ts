// Airlock against the bare http-mitm-proxy, measured in alternating rounds with both processes
// up, for each load issue #17 sets a goal on: keep-alive at concurrency 16 and 32, and a new
// connection per request with a JWT and with a session token in Proxy-Authorization. On a 2-core
// machine that other work shares, one window each can differ by a third from burst to burst; a
// ratio taken inside each round, and the median of those, is what the goals are judged on.
import type { LoadFigures } from './bench.js';

export const PAIRED_LOADS = ['keepalive-c16', 'keepalive-c32', 'new-connection-jwt', 'new-connection-session'] as const;
export type PairedLoad = (typeof PAIRED_LOADS)[number];
export const PAIRED_TITLE: Record<PairedLoad, string> = {
  'keepalive-c16': 'Keep-alive, concurrency 16',
  'keepalive-c32': 'Keep-alive, concurrency 32',
  'new-connection-jwt': 'A new connection per request, JWT in Proxy-Authorization',
  'new-connection-session': 'A new connection per request, session token in Proxy-Authorization',
};

export interface PairedRound {
  /** Which ran first in this round. */
  readonly first: 'bare' | 'airlock';
  readonly bare: LoadFigures;
  readonly airlock: LoadFigures;
  /** airlock req/s over bare req/s, this round. */
  readonly ratio: number;
}

export type PairedResult =
  { readonly rounds: readonly PairedRound[]; readonly medianRatio: number; readonly medianCpuRatio: number | null } | { readonly skipped: string };

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export async function pairedRounds(
  rounds: number,
  measure: { readonly bare: () => Promise<LoadFigures>; readonly airlock: () => Promise<LoadFigures> },
  log: (s: string) => void,
): Promise<PairedResult> {
  const out: PairedRound[] = [];
  for (let i = 0; i < rounds; i++) {
    // Alternate who goes first, so a slow start or a drift over time favours neither.
    const first = i % 2 === 0 ? 'bare' : 'airlock';
    const a = first === 'bare' ? await measure.bare() : await measure.airlock();
    const b = first === 'bare' ? await measure.airlock() : await measure.bare();
    const [bare, airlock] = first === 'bare' ? [a, b] : [b, a];
    const ratio = airlock.rps / bare.rps;
    out.push({ first, bare, airlock, ratio });
    log(`   round ${i + 1}: bare ${bare.rps.toFixed(0)} req/s, airlock ${airlock.rps.toFixed(0)} req/s: ${ratio.toFixed(2)}x`);
  }
  const cpu = out
    .map((r) => (r.airlock.cpuMsPerRequest !== null && r.bare.cpuMsPerRequest ? r.bare.cpuMsPerRequest / r.airlock.cpuMsPerRequest : NaN))
    .filter(Number.isFinite);
  return { rounds: out, medianRatio: median(out.map((r) => r.ratio)), medianCpuRatio: cpu.length > 0 ? median(cpu) : null };
}
