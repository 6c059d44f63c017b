// How long `airlock sessions ls` takes on 100,000 sessions (issue 6 asks for under a second).
// Not a test (no timed assertions): run `npm run bench:sessions [-- count]`.
// It builds a state dir as a server leaves it: a sidecar per session and an index.ndjson with an
// "opened" and a "closed" line per session (GitHub-sized claims, about 1 KB a line). It times the
// listing on that raw log (read whole), the compaction a server runs at start (and when the tail
// grows), and then the listings on the compacted index with 1,000 more sessions appended after it.
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { compactIndex, INDEX_FILE, indexLine, listNewest, type SessionFilter } from '../../appliance/recording/index/index.js';
import type { SessionSummary } from '../../appliance/recording/journal/index.js';

const count = Number(process.argv[2] ?? 100_000);
const tailCount = 1_000;
const stateDir = mkdtempSync(join(tmpdir(), 'airlock-bench-index-'));
const dir = join(stateDir, 'sessions');
mkdirSync(dir, { mode: 0o700 });
const t0 = Date.parse('2026-01-01T00:00:00Z');

function session(i: number): SessionSummary {
  const opened = new Date(t0 + i * 60_000).toISOString();
  const id = `${opened.replace(/[-:.]/g, '').slice(0, 15)}Z-${i.toString(16).padStart(8, '0')}`;
  const repo = `acme/app${i % 50}`;
  return {
    id,
    key: `github|dashboards-bot|repo:${repo}:ref:refs/heads/main|${i}|1`,
    issuer: 'github',
    iss: 'https://token.actions.githubusercontent.com',
    sub: `repo:${repo}:ref:refs/heads/main`,
    grant: i % 3 === 0 ? 'dashboards-bot' : 'metrics-bot',
    credential: 'dd-prod',
    claims: {
      aud: 'airlock',
      repository: repo,
      repository_id: String(100000 + (i % 50)),
      repository_owner: 'acme',
      repository_owner_id: '4242',
      repository_visibility: 'private',
      ref: 'refs/heads/main',
      ref_type: 'branch',
      sha: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4',
      workflow: 'deploy',
      workflow_ref: `${repo}/.github/workflows/deploy.yml@refs/heads/main`,
      job_workflow_ref: `${repo}/.github/workflows/deploy.yml@refs/heads/main`,
      run_id: String(9_000_000 + i),
      run_number: String(i),
      run_attempt: '1',
      actor: 'octocat',
      actor_id: '1',
      event_name: 'push',
      runner_environment: 'self-hosted',
    },
    openedAt: opened,
    status: 'closed',
    closedAt: opened,
    closeReason: 'idle',
    entryCount: 12,
    lastActivityAt: opened,
  };
}

/** Sessions `from`..`to`-1 as a server records them: sidecar, "opened" line, "closed" line. */
function record(from: number, to: number): void {
  let lines = '';
  for (let i = from; i < to; i++) {
    const s = session(i);
    writeFileSync(join(dir, `${s.id}.meta.json`), JSON.stringify(s));
    lines += `${indexLine({ ...s, status: 'open', closedAt: null, closeReason: null, entryCount: 0 })}\n${indexLine(s)}\n`;
    if (lines.length > 8 << 20) {
      appendFileSync(join(dir, INDEX_FILE), lines);
      lines = '';
    }
  }
  appendFileSync(join(dir, INDEX_FILE), lines);
}

const time = async (label: string, fn: () => Promise<string>): Promise<void> => {
  const a = performance.now();
  const what = await fn();
  process.stdout.write(`${label.padEnd(58)} ${(performance.now() - a).toFixed(0).padStart(6)} ms  ${what}\n`);
};
const ls = (filter: SessionFilter, limit: number) => async () => {
  const r = await listNewest(dir, filter, limit);
  return `(${r.sessions.length} shown of ${r.total ?? 'uncounted'})`;
};
const claim: SessionFilter = { claims: [['repository_id', '100007']] };
const recent: SessionFilter = { grant: 'dashboards-bot', since: t0 + (count - 1000) * 60_000 };
const cli = fileURLToPath(new URL('../../appliance/cli.js', import.meta.url));
const run = (args: string[]) => async () => {
  const out = execFileSync(process.execPath, [cli, ...args, '--state-dir', stateDir], { maxBuffer: 1024 * 1024 * 1024 });
  return `(${(out.length / 1e6).toFixed(1)} MB out)`;
};

try {
  const a = performance.now();
  record(0, count);
  process.stdout.write(`wrote ${count} sessions (sidecars and an index of ${2 * count} lines) in ${((performance.now() - a) / 1000).toFixed(1)} s\n\n`);
  process.stdout.write('before compaction (an index no server has compacted yet):\n');
  await time('  sessions ls (newest 100)', ls({}, 100));
  await time('  compactIndex (what serve runs at start)', async () => `(${await compactIndex(dir)} sessions)`);
  record(count, count + tailCount);
  process.stdout.write(`\ncompacted, then ${tailCount} more sessions appended:\n`);
  await time('  sessions ls (newest 100)', ls({}, 100));
  await time('  sessions ls --claim repository_id=100007 (newest 100)', ls(claim, 100));
  await time('  sessions ls --claim repository_id=1 (no match: all read)', ls({ claims: [['repository_id', '1']] }, 100));
  await time('  sessions ls --grant dashboards-bot --since (newest 100)', ls(recent, 100));
  await time('  sessions ls --limit 0 (all, sorted)', ls({}, 0));
  process.stdout.write('\nthe whole command, Node start-up included:\n');
  for (const args of [
    ['sessions', 'ls'],
    ['sessions', 'ls', '--claim', 'repository_id=100007'],
    ['sessions', 'ls', '--claim', 'repository_id=1'],
    ['sessions', 'ls', '--json', '--limit', '100'],
    ['sessions', 'ls', '--json'],
  ]) {
    await time(`  airlock ${args.join(' ')}`, run(args));
  }
} finally {
  rmSync(stateDir, { recursive: true, force: true });
}
