// ab.ts --stream MB: the contenders take turns streaming one MB-sized response each (stream.ts,
// the same client as bench.ts's scaling section), in rotating order; per round MB/s, the proxy's
// CPU ms per MB and its RSS growth; then the medians. Only figures of one run compare.
import { cpuMs } from './proc.js';
import { median } from './paired.js';
import { streamBig } from './stream.js';
import type { Route } from './raw-client.js';
import type { Upstream } from './proxies.js';
import type { BenchCoding } from './coded-body.js';

export interface StreamContender {
  readonly name: string;
  readonly pid: number;
  readonly route: Route;
  readonly ca: string;
  /** The bare engine forwards the client's key; Airlock injects its own. */
  readonly needsKey: boolean;
}

interface StreamRound {
  readonly mbPerS: number;
  readonly cpuMsPerMb: number;
  /** The client's (this process's) CPU per MB: it shares the cores, so a costlier framing to parse slows every contender's figure. */
  readonly clientMsPerMb: number;
  readonly growthMb: number;
}

export async function streamRounds(
  contenders: readonly StreamContender[],
  up: Upstream,
  megabytes: number,
  rounds: number,
  coding?: BenchCoding,
): Promise<void> {
  const bytes = megabytes * 1024 * 1024;
  if (coding === undefined) console.log(`streaming ${megabytes} MB (application/octet-stream, no coding) per round, ${rounds} rounds, alternating order`);
  else {
    // Compressed once, before the rounds, so no contender's window holds the upstream's compression.
    const direct = await streamBig(
      up.pid,
      { kind: 'direct', port: up.port },
      { host: 'api.datadoghq.com', path: '/big', ca: up.caPem, headers: { 'dd-api-key': up.apiKey } },
      bytes,
      undefined,
      coding,
    );
    if (direct.error !== undefined) throw new Error(`upstream: ${direct.error}`);
    console.log(
      `streaming ${megabytes} MB of JSON lines, Content-Encoding ${coding} (${(direct.received / 1048576).toFixed(1)} MB coded), per round, ${rounds} rounds, alternating order; MB/s and ms/MB of the plain body (Airlock sends it decoded, bare forwards the coded bytes)`,
    );
  }
  const results = new Map<string, StreamRound[]>(contenders.map((c) => [c.name, []]));
  for (let i = 0; i < rounds; i++) {
    const order = contenders.map((_, k) => contenders[(k + i) % contenders.length]!);
    const line: string[] = [];
    for (const c of order) {
      let c0 = NaN;
      let c1 = NaN;
      let k0 = process.cpuUsage();
      let k1 = k0;
      const headers: Record<string, string> = c.needsKey ? { 'dd-api-key': up.apiKey } : {};
      const f = await streamBig(
        c.pid,
        c.route,
        { host: 'api.datadoghq.com', path: '/big', ca: c.ca, headers },
        bytes,
        (phase) => {
          if (phase === 'measure') {
            c0 = cpuMs(c.pid);
            k0 = process.cpuUsage();
          } else {
            c1 = cpuMs(c.pid);
            k1 = process.cpuUsage(k0);
          }
        },
        coding,
      );
      if (f.error !== undefined) throw new Error(`${c.name}: ${f.error}`);
      const r = { mbPerS: f.mbPerS, cpuMsPerMb: (c1 - c0) / megabytes, clientMsPerMb: (k1.user + k1.system) / 1000 / megabytes, growthMb: f.growthMb };
      results.get(c.name)!.push(r);
      line.push(
        `${c.name} ${r.mbPerS.toFixed(0)} MB/s ${r.cpuMsPerMb.toFixed(2)} CPU ms/MB (client ${r.clientMsPerMb.toFixed(2)}) RSS +${r.growthMb.toFixed(1)} MB`,
      );
    }
    console.log(`round ${i + 1}: ${line.join(' · ')}`);
  }
  for (const [name, rs] of results) {
    console.log(
      `median ${name}: ${median(rs.map((r) => r.mbPerS)).toFixed(0)} MB/s, ${median(rs.map((r) => r.cpuMsPerMb)).toFixed(2)} CPU ms/MB (client ${median(rs.map((r) => r.clientMsPerMb)).toFixed(2)}), RSS +${Math.max(...rs.map((r) => r.growthMb)).toFixed(1)} MB at most`,
    );
  }
}
