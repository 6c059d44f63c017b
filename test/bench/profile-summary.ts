// `node dist/test/bench/profile-summary.js FILE.cpuprofile [N] [--window FROM-TO] [--timeline]`: the N
// functions with the most self time in a V8 CPU profile (from `npm run bench -- --profile` or
// ab.js --profile), the share per package, and the N airlock functions with the most inclusive time
// (self + callees). Shares are of busy time: idle is shown, then left out, so a loaded machine's
// idle gaps do not dilute the figures. The profile covers start-up and the HAR finalize at stop,
// which run outside any measured window: --timeline prints busy ms per second of the profile, and
// --window 3-40 (seconds from the profile's start) keeps only the samples in between.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { window: { type: 'string' }, timeline: { type: 'boolean', default: false } } });
const [file, nArg] = positionals;
if (!file) {
  process.stderr.write('usage: profile-summary FILE.cpuprofile [N] [--window FROM-TO] [--timeline]\n');
  process.exit(2);
}
const top = Number(nArg ?? 30);
const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const IDLE = new Set(['(idle)', '(program)', '(garbage collector)']);
const isIdle = (id: number): boolean => byId.get(id)?.callFrame.functionName === '(idle)';

const [from, to] = (values.window ?? '0-Infinity').split('-').map((s) => Number(s) * 1e6) as [number, number];
const self = new Map<number, number>();
const perSecond: number[] = [];
let t = 0;
p.samples.forEach((id, i) => {
  const dt = p.timeDeltas[i] ?? 0;
  t += dt;
  const sec = Math.floor(t / 1e6);
  if (!isIdle(id)) perSecond[sec] = (perSecond[sec] ?? 0) + dt;
  if (t >= from && t < to) self.set(id, (self.get(id) ?? 0) + dt);
});
if (values.timeline) {
  process.stdout.write('busy ms per second of the profile:\n');
  perSecond.forEach((us, s) =>
    process.stdout.write(`${String(s).padStart(4)} s ${String(Math.round((us ?? 0) / 1000)).padStart(5)} ${'#'.repeat(Math.round((us ?? 0) / 20_000))}\n`),
  );
}
let idle = 0;
let total = 0;
for (const [id, us] of self) {
  if (isIdle(id)) idle += us;
  else total += us;
}
const where = (url: string): string => {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1]!;
  if (url.includes('/dist/appliance/') || url.includes('/dist/certs/')) return 'airlock';
  if (url.startsWith('node:')) return 'node';
  return url === '' ? '(native/gc)' : 'other';
};
const label = (n: Node): string =>
  `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${n.callFrame.lineNumber + 1}`;
const fn = new Map<string, number>();
const pkg = new Map<string, number>();
const inclusive = new Map<string, number>();
for (const [id, us] of self) {
  if (isIdle(id)) continue;
  const n = byId.get(id)!;
  const key = label(n);
  fn.set(key, (fn.get(key) ?? 0) + us);
  const name = n.callFrame.functionName;
  const w = IDLE.has(name) ? name : where(n.callFrame.url);
  pkg.set(w, (pkg.get(w) ?? 0) + us);
  // Each airlock frame on the stack once (recursion counted once).
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const c = byId.get(cur)!;
    if (!c.callFrame.url.includes('/dist/appliance/')) continue;
    const k = label(c);
    if (seen.has(k)) continue;
    seen.add(k);
    inclusive.set(k, (inclusive.get(k) ?? 0) + us);
  }
}
const pct = (us: number): string => `${((100 * us) / total).toFixed(1)}%`.padStart(6);
process.stdout.write(
  `${(total / 1000).toFixed(0)} ms busy, ${(idle / 1000).toFixed(0)} ms idle${values.window ? ` (window ${values.window} s)` : ''}; shares are of busy time\n\nby package:\n`,
);
for (const [k, v] of [...pkg].sort((a, b) => b[1] - a[1])) process.stdout.write(`${pct(v)}  ${k}\n`);
process.stdout.write(`\ntop functions (self time):\n`);
for (const [k, v] of [...fn].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${pct(v)}  ${k}\n`);
process.stdout.write(`\ntop airlock functions (inclusive time):\n`);
for (const [k, v] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${pct(v)}  ${k}\n`);
