// `npm run bench [-- --quick] [-- --profile] [-- --only airlock,direct] [-- --out DIR]`
// Direct, a bare http-mitm-proxy, Airlock (JWT, and session token when issue 3 is in), and
// mitmdump when installed, measured in one run on one machine; figures as ratios to direct and
// to the bare http-mitm-proxy of the same run. Writes bench-results/bench-<timestamp>.{json,md}.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import type tls from 'node:tls';
import { cpuMs, rssMb, RssSampler } from './proc.js';
import { keepAliveLoad, newConnectionLoad, percentile, type LoadResult } from './load.js';
import { streamBig, type StreamFigures } from './stream.js';
import { oneShot, type Route, type OneShot } from './raw-client.js';
import { journalScaling, type JournalResult } from './journal.js';
import {
  startUpstream,
  startBareMitm,
  startAirlock,
  startMitmdump,
  mitmdumpPath,
  trySessionLogin,
  BENCH_DIR_PREFIX,
  REPO_ROOT,
  type ProxyProcess,
  type Upstream,
} from './proxies.js';
import { renderMarkdown, computeRatios, computeTargets } from './report.js';
import { pairedRounds, PAIRED_LOADS, PAIRED_TITLE, type PairedLoad, type PairedResult } from './paired.js';

export const PROXIES = ['direct', 'http-mitm-proxy', 'airlock', 'airlock-session', 'mitmdump'] as const;
export type ProxyName = (typeof PROXIES)[number];
export const LOADS = ['keepalive-c1', 'keepalive-c32', 'new-connection'] as const;
export type LoadName = (typeof LOADS)[number];

export interface Settings {
  readonly quick: boolean;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly newHosts: number;
  readonly idleConnections: number;
  readonly streamBytes: number;
  readonly journalExchanges: number;
  readonly journalBatch: number;
  /** Alternating concurrency-32 rounds of Airlock and the bare http-mitm-proxy (paired.ts). */
  readonly pairedRounds: number;
  readonly pairedWarmupMs: number;
  readonly pairedDurationMs: number;
}

export interface LoadFigures extends LoadResult {
  /** Proxy process CPU time during the measured window (null for direct). */
  readonly cpuMs: number | null;
  readonly cpuMsPerRequest: number | null;
  readonly peakRssMb: number | null;
}

export interface FirstHostFigures {
  readonly hosts: number;
  readonly firstP50Ms: number;
  readonly firstMaxMs: number;
  readonly knownP50Ms: number;
  /** firstP50 - knownP50. */
  readonly addedMs: number;
  readonly errors: number;
  readonly firstError?: string;
}

export interface IdleFigures {
  readonly connections: number;
  readonly opened: number;
  readonly rssBeforeMb: number;
  readonly rssWithConnectionsMb: number;
  readonly kbPerConnection: number;
  readonly firstError?: string;
}

export type { StreamFigures };

export interface ProxyReport {
  readonly name: ProxyName;
  readonly skipped?: string;
  readonly error?: string;
  readonly startupMs?: number;
  readonly rssIdleMb?: number;
  readonly loads: Partial<Record<LoadName, LoadFigures>>;
  readonly firstHost?: FirstHostFigures;
  readonly idle?: IdleFigures;
  readonly stream?: StreamFigures;
  readonly peakRssMb?: number;
}

export interface BenchReport {
  readonly meta: Record<string, unknown>;
  readonly settings: Settings;
  readonly proxies: Record<ProxyName, ProxyReport>;
  readonly journal: JournalResult | { readonly skipped: string };
  readonly paired: Record<PairedLoad, PairedResult>;
  readonly ratios: ReturnType<typeof computeRatios>;
  readonly targets: ReturnType<typeof computeTargets>;
}

function parseArgs(argv: string[]): { quick: boolean; profile: boolean; only: Set<string> | null; out: string } {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
  };
  const only = get('--only');
  return {
    quick: argv.includes('--quick'),
    profile: argv.includes('--profile'),
    only: only ? new Set(only.split(',').concat('journal')) : null,
    out: resolve(get('--out') ?? join(REPO_ROOT, 'bench-results')),
  };
}

function settingsFor(quick: boolean): Settings {
  return quick
    ? {
        quick,
        warmupMs: 250,
        durationMs: 1000,
        newHosts: 2,
        idleConnections: 100,
        streamBytes: 20 * 1024 * 1024,
        journalExchanges: 5_000,
        journalBatch: 500,
        pairedRounds: 2,
        pairedWarmupMs: 250,
        pairedDurationMs: 1000,
      }
    : {
        quick,
        warmupMs: 2000,
        durationMs: 10_000,
        newHosts: 20,
        idleConnections: 1000,
        streamBytes: 200 * 1024 * 1024,
        journalExchanges: 100_000,
        journalBatch: 1000,
        pairedRounds: 5,
        pairedWarmupMs: 1000,
        pairedDurationMs: 5000,
      };
}

const log = (s: string): void => void process.stderr.write(`${s}\n`);

function requestFor(up: Upstream, ca: string, route: Route, host = 'api.datadoghq.com', path = '/api/v1/validate'): OneShot {
  // Direct and the plain proxies need the real key from the client; Airlock injects it.
  const needsKey = route.kind === 'direct' || !route.proxyAuthorization;
  return { host, path, ca, headers: needsKey ? { 'dd-api-key': up.apiKey, accept: 'application/json' } : { accept: 'application/json' } };
}

async function windowed(pid: number | null, run: (during: (p: 'measure' | 'done') => void) => Promise<LoadResult>): Promise<LoadFigures> {
  let c0 = NaN;
  let c1 = NaN;
  let sampler: RssSampler | null = null;
  let peak: number | null = null;
  const r = await run((phase) => {
    if (pid === null) return;
    if (phase === 'measure') {
      c0 = cpuMs(pid);
      sampler = new RssSampler(pid);
    } else {
      c1 = cpuMs(pid);
      peak = sampler?.stop() ?? null;
    }
  });
  const cpu = pid === null ? null : c1 - c0;
  return { ...r, cpuMs: cpu, cpuMsPerRequest: cpu === null || r.requests === 0 ? null : cpu / r.requests, peakRssMb: peak };
}

async function firstHost(route: Route, mk: (host: string) => OneShot, hosts: readonly string[]): Promise<FirstHostFigures> {
  const first: number[] = [];
  const known: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  for (const host of hosts) {
    try {
      const a = await oneShot(route, mk(host), false, 60_000);
      if (a.status !== 200) throw new Error(`status ${a.status}`);
      const b = await oneShot(route, mk(host), false, 60_000);
      if (b.status !== 200) throw new Error(`status ${b.status}`);
      first.push(a.ms);
      known.push(b.ms);
    } catch (err) {
      errors++;
      firstError ??= (err as Error).message;
    }
  }
  first.sort((a, b) => a - b);
  known.sort((a, b) => a - b);
  const firstP50Ms = percentile(first, 50);
  const knownP50Ms = percentile(known, 50);
  return {
    hosts: hosts.length,
    firstP50Ms,
    firstMaxMs: first.at(-1) ?? NaN,
    knownP50Ms,
    addedMs: firstP50Ms - knownP50Ms,
    errors,
    ...(firstError !== undefined ? { firstError } : {}),
  };
}

async function idleConnections(pid: number, route: Route, req: OneShot, n: number): Promise<IdleFigures> {
  const rssBeforeMb = rssMb(pid);
  const sockets: tls.TLSSocket[] = [];
  let firstError: string | undefined;
  const batch = 50;
  for (let i = 0; i < n; i += batch) {
    const rs = await Promise.allSettled(Array.from({ length: Math.min(batch, n - i) }, () => oneShot(route, req, true, 60_000)));
    for (const r of rs) {
      if (r.status === 'fulfilled' && r.value.socket) sockets.push(r.value.socket);
      else if (r.status === 'rejected') firstError ??= (r.reason as Error).message;
    }
  }
  await new Promise((r) => setTimeout(r, 1000));
  const rssWithConnectionsMb = rssMb(pid);
  const opened = sockets.filter((s) => !s.destroyed).length;
  for (const s of sockets) s.destroy();
  await new Promise((r) => setTimeout(r, 500));
  return {
    connections: n,
    opened,
    rssBeforeMb,
    rssWithConnectionsMb,
    kbPerConnection: opened > 0 ? ((rssWithConnectionsMb - rssBeforeMb) * 1024) / opened : NaN,
    ...(firstError !== undefined ? { firstError } : {}),
  };
}

interface Started {
  readonly pid: number | null;
  readonly route: Route;
  readonly ca: string;
  /** Airlock's: the JWT, to log in for a session token. */
  readonly jwt?: string;
  stop(): Promise<void>;
}

async function runOne(
  name: ProxyName,
  s: Settings,
  start: () => Promise<Started | { skipped: string }>,
  up: Upstream,
  hosts: readonly string[],
): Promise<ProxyReport> {
  log(`\n== ${name}`);
  const t0 = performance.now();
  let started: Started | { skipped: string };
  try {
    started = await start();
  } catch (err) {
    log(`   failed to start: ${(err as Error).message}`);
    return { name, error: `failed to start: ${(err as Error).message}`, loads: {} };
  }
  if ('skipped' in started) {
    log(`   ${started.skipped}`);
    return { name, skipped: started.skipped, loads: {} };
  }
  const startupMs = performance.now() - t0;
  log(`   started in ${startupMs.toFixed(0)} ms; load average ${loadavg()[0]?.toFixed(2)}`);
  const { pid, route, ca } = started;
  const report: { -readonly [K in keyof ProxyReport]: ProxyReport[K] } = { name, startupMs, loads: {} };
  if (pid !== null) report.rssIdleMb = rssMb(pid);
  try {
    const req = requestFor(up, ca, route);
    // One request first: http-mitm-proxy generates an RSA key for api.datadoghq.com on its first
    // connection (node-forge, a second or more on a loaded machine), which the quick mode's 250 ms
    // warm-up did not cover. The first request to a host is measured on its own (firstHost).
    await oneShot(route, req);
    const base = { route, req, warmupMs: s.warmupMs, durationMs: s.durationMs };
    for (const c of [1, 32] as const) {
      const key: LoadName = c === 1 ? 'keepalive-c1' : 'keepalive-c32';
      report.loads[key] = await windowed(pid, (during) => keepAliveLoad({ ...base, concurrency: c }, during));
      log(`   ${key}: ${fmtLoad(report.loads[key])}`);
    }
    report.loads['new-connection'] = await windowed(pid, (during) => newConnectionLoad(base, during));
    log(`   new-connection: ${fmtLoad(report.loads['new-connection'])}`);
    report.firstHost = await firstHost(route, (h) => requestFor(up, ca, route, h), hosts);
    log(
      `   first request to a new host: p50 ${report.firstHost.firstP50Ms.toFixed(2)} ms vs known ${report.firstHost.knownP50Ms.toFixed(2)} ms (${report.firstHost.errors} errors)`,
    );
    if (pid !== null) {
      report.idle = await idleConnections(pid, route, req, s.idleConnections);
      log(`   ${report.idle.opened} idle connections: RSS ${report.idle.rssBeforeMb.toFixed(0)} -> ${report.idle.rssWithConnectionsMb.toFixed(0)} MB`);
      report.stream = await streamBig(pid, route, req, s.streamBytes);
      log(
        `   stream ${(s.streamBytes / 1048576).toFixed(0)} MB: RSS +${report.stream.growthMb.toFixed(1)} MB, ${report.stream.mbPerS.toFixed(0)} MB/s${report.stream.error ? ` (${report.stream.error})` : ''}`,
      );
      report.peakRssMb = Math.max(...Object.values(report.loads).map((l) => l.peakRssMb ?? 0), report.idle.rssWithConnectionsMb, report.stream.peakRssMb);
    }
  } catch (err) {
    report.error = (err as Error).stack ?? String(err);
    log(`   error: ${report.error}`);
  } finally {
    await started.stop();
  }
  return report;
}

/**
 * Both proxies up at once, measured in turns (paired.ts), for every paired load; a failure is
 * reported per load, not thrown. The session token is one `airlock login` on the same Airlock.
 */
async function pairedAll(
  s: Settings,
  starters: Record<ProxyName, () => Promise<Started | { skipped: string }>>,
  up: Upstream,
): Promise<Record<PairedLoad, PairedResult>> {
  const out = Object.fromEntries(PAIRED_LOADS.map((l) => [l, { skipped: 'not run' }])) as Record<PairedLoad, PairedResult>;
  const both: Started[] = [];
  try {
    for (const name of ['http-mitm-proxy', 'airlock'] as const) {
      const st = await starters[name]();
      if ('skipped' in st) {
        for (const l of PAIRED_LOADS) out[l] = { skipped: st.skipped };
        return out;
      }
      both.push(st);
    }
    const [bare, airlock] = both as [Started, Started];
    const login = airlock.route.kind === 'proxy' && airlock.jwt ? await trySessionLogin(airlock.route.port, airlock.jwt) : { skipped: 'skipped: no JWT' };
    const sessionRoute: Route | null =
      'token' in login && airlock.route.kind === 'proxy' ? { ...airlock.route, proxyAuthorization: `Bearer ${login.token}` } : null;
    const keepAlive = (p: Started, concurrency: number) => () =>
      windowed(p.pid, (during) =>
        keepAliveLoad({ route: p.route, req: requestFor(up, p.ca, p.route), concurrency, warmupMs: s.pairedWarmupMs, durationMs: s.pairedDurationMs }, during),
      );
    const newConnection = (p: Started, route: Route) => () =>
      windowed(p.pid, (during) =>
        newConnectionLoad({ route, req: requestFor(up, p.ca, route), warmupMs: s.pairedWarmupMs, durationMs: s.pairedDurationMs }, during),
      );
    const measures: Record<PairedLoad, { bare: () => Promise<LoadFigures>; airlock: () => Promise<LoadFigures> } | { skipped: string }> = {
      'keepalive-c16': { bare: keepAlive(bare, 16), airlock: keepAlive(airlock, 16) },
      'keepalive-c32': { bare: keepAlive(bare, 32), airlock: keepAlive(airlock, 32) },
      'new-connection-jwt': { bare: newConnection(bare, bare.route), airlock: newConnection(airlock, airlock.route) },
      'new-connection-session': sessionRoute
        ? { bare: newConnection(bare, bare.route), airlock: newConnection(airlock, sessionRoute) }
        : { skipped: 'skipped' in login ? login.skipped : 'skipped' },
    };
    for (const l of PAIRED_LOADS) {
      const m = measures[l];
      if ('skipped' in m) {
        out[l] = m;
        continue;
      }
      log(`   ${PAIRED_TITLE[l]}:`);
      try {
        out[l] = await pairedRounds(s.pairedRounds, m, log);
      } catch (err) {
        log(`   error: ${(err as Error).message}`);
        out[l] = { skipped: `failed: ${(err as Error).message}` };
      }
    }
    return out;
  } catch (err) {
    log(`   error: ${(err as Error).message}`);
    for (const l of PAIRED_LOADS) if (!('rounds' in out[l])) out[l] = { skipped: `failed: ${(err as Error).message}` };
    return out;
  } finally {
    for (const p of both) await p.stop();
  }
}

function fmtLoad(l: LoadFigures | undefined): string {
  if (!l) return '-';
  return `${l.rps.toFixed(0)} req/s, p50 ${l.p50Ms.toFixed(2)} ms, p99 ${l.p99Ms.toFixed(2)} ms, ${l.errors} errors${l.cpuMsPerRequest !== null ? `, ${(l.cpuMsPerRequest * 1000).toFixed(0)} µs CPU/req` : ''}${l.firstError ? ` [${l.firstError}]` : ''}`;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const s = settingsFor(args.quick);
  const wanted = (n: string): boolean => args.only === null || args.only.has(n);
  const dir = mkdtempSync(BENCH_DIR_PREFIX);
  mkdirSync(args.out, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const profileDir = join(args.out, `profiles-${stamp}`);
  const t0 = performance.now();
  const loadStart = loadavg()[0];
  let up: Upstream | undefined;
  try {
    let journal: JournalResult | { skipped: string } = { skipped: 'not selected' };
    if (wanted('journal')) {
      log(`== journal: ${s.journalExchanges} exchanges in one session`);
      journal = await journalScaling(s.journalExchanges, s.journalBatch, dir);
      log(`   ${journal.earlyUs.toFixed(1)} µs/exchange at ~1,000, ${journal.lateUs.toFixed(1)} µs at ${s.journalExchanges} (x${journal.ratio.toFixed(2)})`);
    }

    up = await startUpstream(dir);
    const upstream = up;
    const hosts = Array.from({ length: s.newHosts }, (_, i) => `h${i + 1}.datadoghq.com`);
    // The upstream issues its own certificate per host: warm it so only the proxy's cost is seen.
    const direct: Route = { kind: 'direct', port: up.port };
    for (const h of ['api.datadoghq.com', ...hosts]) await oneShot(direct, requestFor(up, up.caPem, direct, h));

    const mitmdump = mitmdumpPath();
    const starters: Record<ProxyName, () => Promise<Started | { skipped: string }>> = {
      direct: async () => ({ pid: null, route: direct, ca: upstream.caPem, stop: async () => undefined }),
      'http-mitm-proxy': async () => {
        const p = await startBareMitm(dir, upstream);
        return { pid: p.pid, route: { kind: 'proxy', port: p.port }, ca: p.caPem, stop: p.stop };
      },
      airlock: async () => {
        const p = await startAirlock(dir, upstream, {
          extraHosts: hosts,
          ...(args.profile ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] } : {}),
        });
        return { pid: p.pid, route: { kind: 'proxy', port: p.port, proxyAuthorization: `Bearer ${p.jwt}` }, ca: p.caPem, jwt: p.jwt, stop: p.stop };
      },
      'airlock-session': async () => {
        const p = await startAirlock(dir, upstream, { extraHosts: hosts });
        const login = await trySessionLogin(p.port, p.jwt);
        if ('skipped' in login) {
          await p.stop();
          return { skipped: login.skipped };
        }
        return { pid: p.pid, route: { kind: 'proxy', port: p.port, proxyAuthorization: `Bearer ${login.token}` }, ca: p.caPem, stop: p.stop };
      },
      mitmdump: async () => {
        if (!mitmdump) return { skipped: 'skipped: mitmdump is not installed (Debian package mitmproxy)' };
        const p: ProxyProcess = await startMitmdump(dir, upstream, mitmdump);
        return { pid: p.pid, route: { kind: 'proxy', port: p.port }, ca: p.caPem, stop: p.stop };
      },
    };
    const proxies = {} as Record<ProxyName, ProxyReport>;
    for (const name of PROXIES) {
      proxies[name] = wanted(name) ? await runOne(name, s, starters[name], upstream, hosts) : { name, skipped: 'not selected (--only)', loads: {} };
    }

    let paired = Object.fromEntries(PAIRED_LOADS.map((l) => [l, { skipped: 'not selected (--only): needs airlock and http-mitm-proxy' }])) as Record<
      PairedLoad,
      PairedResult
    >;
    if (wanted('airlock') && wanted('http-mitm-proxy')) {
      log(`\n== airlock and http-mitm-proxy in ${s.pairedRounds} alternating rounds per load`);
      paired = await pairedAll(s, starters, upstream);
    }

    const meta = {
      date: new Date().toISOString(),
      mode: s.quick ? 'quick' : 'full',
      command: `npm run bench${s.quick ? ' -- --quick' : ''}`,
      node: process.version,
      cpus: `${cpus().length} x ${cpus()[0]?.model ?? '?'}`,
      memoryGb: Math.round(totalmem() / 1073741824),
      commit: gitCommit(),
      mitmdump: mitmdump ? mitmdumpVersion(mitmdump) : null,
      httpMitmProxy: packageVersion('http-mitm-proxy'),
      undici: packageVersion('undici'),
      elapsedS: 0,
      // Other work on the machine skews every figure: a 1-minute load average above the core count means the run was contended.
      loadAverage1m: { start: round2(loadStart ?? NaN), end: round2(loadavg()[0] ?? NaN) },
      ...(args.profile ? { profiles: profileDir } : {}),
    };
    const ratios = computeRatios(proxies);
    const targets = computeTargets(proxies, journal, s, paired);
    meta.elapsedS = Math.round((performance.now() - t0) / 1000);
    const report: BenchReport = { meta, settings: s, proxies, journal, paired, ratios, targets };
    const md = renderMarkdown(report);
    const base = join(args.out, `bench-${stamp}`);
    writeFileSync(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(`${base}.md`, md);
    process.stdout.write(`\n${md}\n`);
    log(`wrote ${base}.json and ${base}.md in ${meta.elapsedS} s`);
  } finally {
    await up?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const round2 = (v: number): number => Math.round(v * 100) / 100;

function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

function mitmdumpVersion(bin: string): string | null {
  try {
    return /Mitmproxy:\s*(\S+)/.exec(execFileSync(bin, ['--version'], { encoding: 'utf8' }))?.[1] ?? null;
  } catch {
    return null;
  }
}

function packageVersion(name: string): string | null {
  try {
    return (JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return null;
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
