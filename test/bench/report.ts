// Ratios, targets and the markdown table, from the figures of one run.
import type { BenchReport, LoadFigures, LoadName, ProxyName, ProxyReport, Settings } from './bench.js';
import { PAIRED_LOADS, PAIRED_TITLE, type PairedLoad, type PairedResult } from './paired.js';
import type { JournalResult } from './journal.js';

const PROXY_ORDER: readonly ProxyName[] = ['direct', 'http-mitm-proxy', 'airlock', 'airlock-session', 'mitmdump'];
const LOAD_ORDER: readonly LoadName[] = ['keepalive-c1', 'keepalive-c32', 'new-connection'];
const LOAD_TITLE: Record<LoadName, string> = {
  'keepalive-c1': 'Keep-alive, 1 request in flight (GET /api/v1/validate, small JSON)',
  'keepalive-c32': 'Keep-alive, 32 requests in flight',
  'new-connection': 'A new connection per request (TCP + CONNECT + TLS + 1 request, like curl), 1 at a time',
};

export interface Ratio {
  readonly rpsVsDirect: number | null;
  readonly rpsVsBare: number | null;
  readonly p50VsDirect: number | null;
  readonly p50VsBare: number | null;
  /** p50 minus direct's p50, ms. */
  readonly addedP50Ms: number | null;
  readonly cpuPerRequestVsBare: number | null;
}

const div = (a: number | null | undefined, b: number | null | undefined): number | null =>
  a === null || a === undefined || b === null || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0 ? null : a / b;

export function computeRatios(proxies: Record<ProxyName, ProxyReport>): Partial<Record<ProxyName, Partial<Record<LoadName, Ratio>>>> {
  const out: Partial<Record<ProxyName, Partial<Record<LoadName, Ratio>>>> = {};
  for (const p of PROXY_ORDER) {
    const r = proxies[p];
    if (!r || Object.keys(r.loads).length === 0) continue;
    const per: Partial<Record<LoadName, Ratio>> = {};
    for (const l of LOAD_ORDER) {
      const x = r.loads[l];
      if (!x) continue;
      const d = proxies.direct?.loads[l];
      const b = proxies['http-mitm-proxy']?.loads[l];
      per[l] = {
        rpsVsDirect: div(x.rps, d?.rps),
        rpsVsBare: div(x.rps, b?.rps),
        p50VsDirect: div(x.p50Ms, d?.p50Ms),
        p50VsBare: div(x.p50Ms, b?.p50Ms),
        addedP50Ms: d ? x.p50Ms - d.p50Ms : null,
        cpuPerRequestVsBare: div(x.cpuMsPerRequest, b?.cpuMsPerRequest),
      };
    }
    out[p] = per;
  }
  return out;
}

export interface Target {
  readonly name: string;
  readonly target: string;
  readonly measured: string;
  /** null when it could not be measured in this run (e.g. mitmdump not installed). */
  readonly met: boolean | null;
}

/** The goals of issue #17, each judged on this run's own figures (ratios, never absolute numbers). */
export function computeTargets(
  proxies: Record<ProxyName, ProxyReport>,
  journal: JournalResult | { skipped: string },
  s: Settings,
  paired: Record<PairedLoad, PairedResult>,
): Target[] {
  const a = proxies.airlock;
  const bare = proxies['http-mitm-proxy'];
  const mitm = proxies.mitmdump;
  const direct = proxies.direct;
  const t: Target[] = [];
  // Judged on the paired rounds: one window each is too exposed to bursts on a shared machine.
  for (const l of PAIRED_LOADS) {
    const p = paired[l];
    const name = `${PAIRED_TITLE[l]}: throughput vs bare http-mitm-proxy`;
    t.push(
      'rounds' in p
        ? {
            name,
            target: '>= 1.0x',
            measured: `${p.medianRatio.toFixed(2)}x (median of ${p.rounds.length} alternating rounds; CPU/req bare over airlock ${x(p.medianCpuRatio)})`,
            met: p.medianRatio >= 1,
          }
        : { name, target: '>= 1.0x', measured: p.skipped, met: null },
    );
  }
  const added = (r: ProxyReport | undefined): number | null =>
    r?.loads['keepalive-c1'] && direct?.loads['keepalive-c1'] ? r.loads['keepalive-c1'].p50Ms - direct.loads['keepalive-c1'].p50Ms : null;
  const addedA = added(a);
  const addedB = added(bare);
  t.push({
    name: 'Added p50 over direct, keep-alive, concurrency 1',
    target: "<= the bare engine's",
    measured: addedA === null || addedB === null ? 'n/a' : `${addedA.toFixed(2)} ms (bare ${addedB.toFixed(2)} ms)`,
    met: addedA === null || addedB === null ? null : addedA <= addedB,
  });
  const st = a?.stream;
  const stVsBare = div(st?.mbPerS, bare?.stream?.mbPerS);
  t.push({
    name: `Streaming ${(s.streamBytes / 1048576).toFixed(0)} MB through a recorded session: MB/s vs bare`,
    target: '>= 0.9x',
    measured: stVsBare === null ? 'n/a' : `${stVsBare.toFixed(2)}x (${f(st?.mbPerS, 0)} vs ${f(bare?.stream?.mbPerS, 0)} MB/s)`,
    met: stVsBare === null ? null : stVsBare >= 0.9 && !st?.error,
  });
  t.push({
    name: `Streaming ${(s.streamBytes / 1048576).toFixed(0)} MB through a recorded session: RSS growth`,
    target: '<= 50 MB',
    measured: st ? `${st.growthMb.toFixed(1)} MB${st.error ? ` (${st.error})` : ''}` : 'n/a',
    met: st ? st.growthMb <= 50 && !st.error : null,
  });
  const vsMitm = div(a?.loads['keepalive-c32']?.rps, mitm?.loads['keepalive-c32']?.rps);
  t.push({
    name: 'Throughput at concurrency 32 vs mitmdump',
    target: '>= 6x',
    measured: vsMitm === null ? (mitm?.skipped ?? 'n/a') : `${vsMitm.toFixed(2)}x`,
    met: vsMitm === null ? null : vsMitm >= 6,
  });
  const fh = a?.firstHost;
  t.push({
    name: 'First request to a new intercepted host, over a known host',
    target: '<= 20 ms',
    measured: fh && Number.isFinite(fh.addedMs) ? `${fh.addedMs.toFixed(2)} ms (p50 of ${fh.hosts} hosts)` : 'n/a',
    met: fh && Number.isFinite(fh.addedMs) ? fh.addedMs <= 20 : null,
  });
  const idle = a?.idle;
  t.push({
    name: `RSS with ${s.idleConnections.toLocaleString('en-US')} idle keep-alive connections`,
    target: '<= 200 MB',
    measured: idle ? `${idle.rssWithConnectionsMb.toFixed(0)} MB (${idle.opened} open)` : 'n/a',
    met: idle ? idle.rssWithConnectionsMb <= 200 && idle.opened === idle.connections : null,
  });
  const j = 'ratio' in journal ? journal : null;
  t.push({
    name: `Journal append at ${s.journalExchanges.toLocaleString('en-US')} exchanges vs at 1,000`,
    target: 'within 20%',
    measured: j ? `${j.ratio.toFixed(2)}x (${j.earlyUs.toFixed(0)} -> ${j.lateUs.toFixed(0)} µs)` : 'n/a',
    met: j ? j.ratio <= 1.2 : null,
  });
  return t;
}

const f = (v: number | null | undefined, digits = 2): string => (v === null || v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits));
const x = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : `${v.toFixed(2)}x`);

export function renderMarkdown(r: BenchReport): string {
  const out: string[] = [];
  const m = r.meta;
  out.push(`# Airlock benchmark (${String(m['mode'])})`, '');
  out.push(
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- metadata fields as the bench wrote them
    `${String(m['date'])} · \`${String(m['command'])}\` · commit ${String(m['commit'] ?? '?')} · node ${String(m['node'])} · ${String(m['cpus'])} · ${String(m['memoryGb'])} GB · http-mitm-proxy ${String(m['httpMitmProxy'] ?? '?')} · mitmdump ${String(m['mitmdump'] ?? 'not installed')} · load average ${JSON.stringify(m['loadAverage1m'])}`,
    '',
    `Each load: ${r.settings.warmupMs / 1000} s warm-up, then ${r.settings.durationMs / 1000} s measured. Every proxy is its own process; CPU is that process's utime+stime over the measured window, RSS from /proc. "vs direct" and "vs bare" are ratios to direct and to the bare http-mitm-proxy of this same run.`,
    '',
  );
  const skipped = PROXY_ORDER.map((p) => r.proxies[p]).filter((p) => p && (p.skipped || p.error));
  for (const p of skipped) out.push(`- **${p.name}**: ${p.skipped ?? `error: ${(p.error ?? '').split('\n')[0]}`}`);
  if (skipped.length) out.push('');

  for (const l of LOAD_ORDER) {
    out.push(`### ${LOAD_TITLE[l]}`, '');
    out.push('| Proxy | req/s | p50 ms | p99 ms | errors | CPU µs/req | peak RSS MB | req/s vs direct | req/s vs bare | p50 added over direct, ms |');
    out.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const p of PROXY_ORDER) {
      const v = r.proxies[p]?.loads[l];
      if (!v) continue;
      const ra = r.ratios[p]?.[l];
      out.push(
        `| ${p} | ${f(v.rps, 0)} | ${f(v.p50Ms)} | ${f(v.p99Ms)} | ${v.errors} | ${v.cpuMsPerRequest === null ? '-' : f(v.cpuMsPerRequest * 1000, 0)} | ${f(v.peakRssMb, 0)} | ${x(ra?.rpsVsDirect)} | ${x(ra?.rpsVsBare)} | ${f(ra?.addedP50Ms)} |`,
      );
    }
    out.push('');
  }

  out.push(`### First request to a host the proxy has not seen (new connection each; ${r.settings.newHosts} hosts)`, '');
  out.push('| Proxy | first p50 ms | first max ms | same host again, p50 ms | added ms |');
  out.push('|---|---:|---:|---:|---:|');
  for (const p of PROXY_ORDER) {
    const v = r.proxies[p]?.firstHost;
    if (v) out.push(`| ${p} | ${f(v.firstP50Ms)} | ${f(v.firstMaxMs)} | ${f(v.knownP50Ms)} | ${f(v.addedMs)}${v.errors ? ` (${v.errors} errors)` : ''} |`);
  }
  out.push('');

  out.push('### Memory', '');
  out.push(
    `| Proxy | RSS at start MB | RSS before idle conns MB | with ${r.settings.idleConnections} idle conns MB | KB/conn | streaming ${(r.settings.streamBytes / 1048576).toFixed(0)} MB: RSS growth MB | stream MB/s |`,
  );
  out.push('|---|---:|---:|---:|---:|---:|---:|');
  for (const p of PROXY_ORDER) {
    const v = r.proxies[p];
    if (!v?.idle && !v?.stream) continue;
    out.push(
      `| ${p} | ${f(v.rssIdleMb, 0)} | ${f(v.idle?.rssBeforeMb, 0)} | ${f(v.idle?.rssWithConnectionsMb, 0)}${v.idle && v.idle.opened !== v.idle.connections ? ` (${v.idle.opened} opened)` : ''} | ${f(v.idle?.kbPerConnection, 0)} | ${f(v.stream?.growthMb, 1)}${v.stream?.error ? ` (${v.stream.error})` : ''} | ${f(v.stream?.mbPerS, 0)} |`,
    );
  }
  out.push('');

  if ('ratio' in r.journal) {
    const j = r.journal;
    out.push('### Session journal (SessionStore.begin + record per exchange, in-process)', '');
    out.push(`| exchanges in session | µs/exchange at ~1,000 | µs/exchange at ${j.exchanges.toLocaleString('en-US')} | ratio | journal MB |`);
    out.push('|---:|---:|---:|---:|---:|');
    out.push(`| ${j.exchanges.toLocaleString('en-US')} | ${f(j.earlyUs, 1)} | ${f(j.lateUs, 1)} | ${f(j.ratio)}x | ${f(j.journalMb, 0)} |`);
    out.push('');
  }

  for (const l of PAIRED_LOADS) {
    const p = r.paired[l];
    if (!('rounds' in p)) {
      out.push(`Paired rounds, ${PAIRED_TITLE[l]}: ${p.skipped}`, '');
      continue;
    }
    out.push(
      `### ${PAIRED_TITLE[l]}: Airlock and the bare http-mitm-proxy in ${p.rounds.length} alternating rounds (${r.settings.pairedWarmupMs / 1000} s warm-up, ${r.settings.pairedDurationMs / 1000} s measured each)`,
      '',
    );
    out.push('| round | first | bare req/s | airlock req/s | ratio | bare CPU µs/req | airlock CPU µs/req |');
    out.push('|---:|---|---:|---:|---:|---:|---:|');
    p.rounds.forEach((q, i) => {
      const cpu = (v: LoadFigures): string => (v.cpuMsPerRequest === null ? '-' : f(v.cpuMsPerRequest * 1000, 0));
      out.push(`| ${i + 1} | ${q.first} | ${f(q.bare.rps, 0)} | ${f(q.airlock.rps, 0)} | ${f(q.ratio)}x | ${cpu(q.bare)} | ${cpu(q.airlock)} |`);
    });
    out.push('', `Median ratio ${f(p.medianRatio)}x; median CPU per request, bare over airlock, ${x(p.medianCpuRatio)}.`, '');
  }

  out.push('### Targets (measured, not asserted)', '');
  out.push('| Target | Goal | Measured | Met |');
  out.push('|---|---|---|---|');
  for (const t of r.targets) out.push(`| ${t.name} | ${t.target} | ${t.measured} | ${t.met === null ? 'n/a' : t.met ? 'yes' : '**no**'} |`);
  out.push('');
  // Every table says on what machine, under what load, it was taken: a figure without them is no property of the software.
  const machine = `_${String(m['cpus'])}, 1-minute load average ${JSON.stringify(m['loadAverage1m'])}_`;
  return out.flatMap((line) => (line.startsWith('### ') ? [line, '', machine] : [line])).join('\n');
}
