// `node dist/test/bench/profile-summary.js FILE.cpuprofile [N]`: the N functions with the most
// self time in a V8 CPU profile (from `npm run bench -- --profile`), and the share per package.
import { readFileSync } from 'node:fs';

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

const [file, nArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: profile-summary FILE.cpuprofile [N]\n');
  process.exit(2);
}
const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
const total = [...self.values()].reduce((a, b) => a + b, 0);
const where = (url: string): string => {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1]!;
  if (url.includes('/dist/appliance/') || url.includes('/dist/certs/')) return 'airlock';
  if (url.startsWith('node:')) return 'node';
  return url === '' ? '(native/gc/idle)' : 'other';
};
const fn = new Map<string, number>();
const pkg = new Map<string, number>();
for (const [id, us] of self) {
  const n = byId.get(id)!;
  const name = n.callFrame.functionName || '(anonymous)';
  const key = `${name} ${n.callFrame.url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${n.callFrame.lineNumber + 1}`;
  fn.set(key, (fn.get(key) ?? 0) + us);
  const w = ['(idle)', '(program)', '(garbage collector)'].includes(name) ? name : where(n.callFrame.url);
  pkg.set(w, (pkg.get(w) ?? 0) + us);
}
const pct = (us: number): string => `${((100 * us) / total).toFixed(1)}%`.padStart(6);
process.stdout.write(`total ${(total / 1000).toFixed(0)} ms sampled\n\nby package:\n`);
for (const [k, v] of [...pkg].sort((a, b) => b[1] - a[1])) process.stdout.write(`${pct(v)}  ${k}\n`);
process.stdout.write(`\ntop functions (self time):\n`);
for (const [k, v] of [...fn].sort((a, b) => b[1] - a[1]).slice(0, Number(nArg ?? 30))) process.stdout.write(`${pct(v)}  ${k}\n`);
