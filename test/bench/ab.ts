// `node dist/test/bench/ab.js --build old=OTHER/dist/appliance/cli.js [--build ...] [--rounds 6] [--seconds 8] [--concurrency 32] [--bare] [--fresh] [--session] [--profile DIR] [--stream MB [--coding gzip|br|deflate]]`
// Builds of Airlock (other commits' compiled cli.js, and this one as `this`), and optionally the
// bare http-mitm-proxy, up at once and measured in alternating keep-alive rounds against the same
// upstream: the CPU per request of each round, and the medians. On a loaded 2-core machine only
// figures from one run, taken in turns, compare; this is how a per-request cost is shown gone.
// --fresh: a new TCP + CONNECT + TLS connection per request instead (curl-style; the handshake's
// cost), `concurrency` such clients side by side.
// --session: each Airlock is sent a session token from its own `POST /.airlock/v1/login` in
// Proxy-Authorization instead of the JWT (the other way a job proves who it is).
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { cpuMs } from './proc.js';
import { keepAliveLoad, newConnectionLoad, type LoadResult } from './load.js';
import { oneShot, type Route } from './raw-client.js';
import { startUpstream, startAirlock, startBareMitm, trySessionLogin, BENCH_DIR_PREFIX, type Upstream } from './proxies.js';
import { median } from './paired.js';
import { CLI } from '../fixtures/airlock-process.js';
import { streamRounds } from './ab-stream.js';
import { BENCH_CODINGS, type BenchCoding } from './coded-body.js';

interface Contender {
  readonly name: string;
  readonly pid: number;
  readonly route: Route;
  readonly ca: string;
  readonly needsKey: boolean;
  stop(): Promise<void>;
}

interface Round {
  readonly rps: number;
  readonly usPerReq: number;
  readonly errors: number;
}

/** One round: kept-alive connections, or (--fresh) a new connection per request (load.ts). */
async function measure(
  load: typeof keepAliveLoad | typeof newConnectionLoad,
  c: Contender,
  up: Upstream,
  concurrency: number,
  warmupMs: number,
  durationMs: number,
): Promise<Round> {
  let c0 = NaN;
  let c1 = NaN;
  const headers: Record<string, string> = c.needsKey ? { 'dd-api-key': up.apiKey, accept: 'application/json' } : { accept: 'application/json' };
  const r: LoadResult = await load(
    { route: c.route, req: { host: 'api.datadoghq.com', path: '/api/v1/validate', ca: c.ca, headers }, concurrency, warmupMs, durationMs },
    (phase) => {
      if (phase === 'measure') c0 = cpuMs(c.pid);
      else c1 = cpuMs(c.pid);
    },
  );
  return { rps: r.rps, usPerReq: r.requests === 0 ? NaN : ((c1 - c0) * 1000) / r.requests, errors: r.errors };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      build: { type: 'string', multiple: true, default: [] },
      rounds: { type: 'string', default: '6' },
      seconds: { type: 'string', default: '8' },
      warmup: { type: 'string', default: '2' },
      concurrency: { type: 'string', default: '32' },
      bare: { type: 'boolean', default: false },
      fresh: { type: 'boolean', default: false },
      session: { type: 'boolean', default: false },
      profile: { type: 'string' },
      // Instead of keep-alive rounds: one response of this many MB per contender and round (ab-stream.ts).
      stream: { type: 'string' },
      // With --stream: the upstream sends the body compressed (gzip, br or deflate; coded-body.ts).
      coding: { type: 'string' },
    },
  });
  const builds = values.build.map((b) => {
    const i = b.indexOf('=');
    if (i < 1) throw new Error(`--build NAME=PATH/dist/appliance/cli.js, not ${b}`);
    return [b.slice(0, i), resolve(b.slice(i + 1))] as const;
  });
  if (builds.length === 0) throw new Error('at least one --build NAME=PATH/dist/appliance/cli.js');
  const coding = values.coding as BenchCoding | undefined;
  if (coding !== undefined && (values.stream === undefined || !BENCH_CODINGS.includes(coding)))
    throw new Error(`--coding ${BENCH_CODINGS.join('|')} goes with --stream`);
  const rounds = Number(values.rounds);
  const durationMs = Number(values.seconds) * 1000;
  const warmupMs = Number(values.warmup) * 1000;
  const concurrency = Number(values.concurrency);
  const prof = (tag: string): readonly string[] => (values.profile ? ['--cpu-prof', `--cpu-prof-dir=${resolve(values.profile, tag)}`] : []);
  const dir = mkdtempSync(BENCH_DIR_PREFIX);
  const contenders: Contender[] = [];
  let up: Upstream | undefined;
  try {
    up = await startUpstream(dir);
    const direct: Route = { kind: 'direct', port: up.port };
    await oneShot(direct, { host: 'api.datadoghq.com', path: '/api/v1/validate', ca: up.caPem, headers: { 'dd-api-key': up.apiKey } });
    for (const [name, cli] of [...builds, ['this', CLI] as const]) {
      const p = await startAirlock(dir, up, { extraHosts: [], cli, nodeArgs: prof(name) });
      let credential = p.jwt;
      if (values.session) {
        const login = await trySessionLogin(p.port, p.jwt);
        if ('skipped' in login) {
          await p.stop();
          throw new Error(`${name}: ${login.skipped}`);
        }
        credential = login.token;
      }
      contenders.push({
        name,
        pid: p.pid,
        route: { kind: 'proxy', port: p.port, proxyAuthorization: `Bearer ${credential}` },
        ca: p.caPem,
        needsKey: false,
        stop: p.stop,
      });
    }
    if (values.bare) {
      const p = await startBareMitm(dir, up, prof('bare'));
      contenders.push({ name: 'bare', pid: p.pid, route: { kind: 'proxy', port: p.port }, ca: p.caPem, needsKey: true, stop: p.stop });
    }
    console.log(
      `${new Date().toISOString()} · ${cpus().length} x ${cpus()[0]?.model ?? '?'} · node ${process.version} · load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    if (values.stream !== undefined) {
      await streamRounds(contenders, up, Number(values.stream), rounds, coding);
      return;
    }
    console.log(
      `${values.fresh ? 'a new connection per request' : 'keep-alive'}${values.session ? ' (session token)' : ''}, concurrency ${concurrency}, ${rounds} rounds of ${durationMs / 1000} s each (after ${warmupMs / 1000} s warm-up), alternating order`,
    );
    const results = new Map<string, Round[]>(contenders.map((c) => [c.name, []]));
    for (let i = 0; i < rounds; i++) {
      // Rotate who goes first so drift over the run favours none.
      const order = contenders.map((_, k) => contenders[(k + i) % contenders.length]!);
      const line: string[] = [];
      for (const c of order) {
        const r = await measure(values.fresh ? newConnectionLoad : keepAliveLoad, c, up, concurrency, warmupMs, durationMs);
        results.get(c.name)!.push(r);
        line.push(`${c.name} ${r.rps.toFixed(0)} req/s ${r.usPerReq.toFixed(0)} µs/req${r.errors ? ` (${r.errors} errors)` : ''}`);
      }
      console.log(`round ${i + 1}: ${line.join(' · ')}   [load ${loadavg()[0]?.toFixed(2)}]`);
    }
    for (const [name, rs] of results) {
      console.log(`median ${name}: ${median(rs.map((r) => r.usPerReq)).toFixed(0)} µs/req, ${median(rs.map((r) => r.rps)).toFixed(0)} req/s`);
    }
  } finally {
    for (const c of contenders) await c.stop();
    await up?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
