// How long `airlock sessions ls` takes on 100,000 sessions (issue 6 asks for under a second).
// Not a test (no timed assertions): run `node dist/test/bench/sessions-index-bench.js [count]`.
// It writes an index.ndjson of closed sessions with GitHub-sized claims (about 1 KB a line), then
// times listSessions unfiltered, with a claim filter and with a time window, and a compaction.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { listSessions } from '../../appliance/recording/session-files.js';
import { compactIndex, indexLine, INDEX_FILE } from '../../appliance/recording/session-index.js';
import type { SessionSummary } from '../../appliance/recording/journal-types.js';

const count = Number(process.argv[2] ?? 100_000);
const stateDir = mkdtempSync(join(tmpdir(), 'airlock-bench-index-'));
const dir = join(stateDir, 'sessions');
mkdirSync(dir, { mode: 0o700 });
try {
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const opened = new Date(t0 + i * 60_000).toISOString();
    const id = `${opened.replace(/[-:.]/g, '').slice(0, 15)}Z-${i.toString(16).padStart(8, '0')}`;
    const s: SessionSummary = {
      id, key: `github|dashboards-bot|repo:acme/app${i % 50}:ref:refs/heads/main|${i}|1`, issuer: 'github', iss: 'https://token.actions.githubusercontent.com',
      sub: `repo:acme/app${i % 50}:ref:refs/heads/main`, grant: i % 3 === 0 ? 'dashboards-bot' : 'metrics-bot', credential: 'dd-prod',
      claims: {
        aud: 'airlock', repository: `acme/app${i % 50}`, repository_id: String(100000 + (i % 50)), repository_owner: 'acme', repository_owner_id: '4242',
        repository_visibility: 'private', ref: 'refs/heads/main', ref_type: 'branch', sha: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4', workflow: 'deploy',
        workflow_ref: `acme/app${i % 50}/.github/workflows/deploy.yml@refs/heads/main`, job_workflow_ref: `acme/app${i % 50}/.github/workflows/deploy.yml@refs/heads/main`,
        run_id: String(9_000_000 + i), run_number: String(i), run_attempt: '1', actor: 'octocat', actor_id: '1', event_name: 'push', runner_environment: 'self-hosted',
      },
      openedAt: opened, status: 'closed', closedAt: opened, closeReason: 'idle', entryCount: 12, lastActivityAt: opened,
    };
    lines.push(indexLine(s));
  }
  writeFileSync(join(dir, INDEX_FILE), `${lines.join('\n')}\n`);
  const time = async (label: string, fn: () => Promise<number>): Promise<void> => {
    const a = performance.now();
    const n = await fn();
    process.stdout.write(`${label.padEnd(44)} ${(performance.now() - a).toFixed(0).padStart(6)} ms  (${n} sessions)\n`);
  };
  process.stdout.write(`index of ${count} sessions: ${(lines.join('\n').length / 1e6).toFixed(1)} MB\n`);
  await time('sessions ls (all, sorted)', async () => (await listSessions(dir)).length);
  await time('sessions ls --claim repository_id=100007', async () => (await listSessions(dir, { claims: [['repository_id', '100007']] })).length);
  await time('sessions ls --grant dashboards-bot --since', async () => (await listSessions(dir, { grant: 'dashboards-bot', since: t0 + (count - 1000) * 60_000 })).length);
  // The whole command as an operator runs it: node start-up, parsing, filtering and printing.
  const cli = fileURLToPath(new URL('../../appliance/cli.js', import.meta.url));
  for (const args of [['sessions', 'ls'], ['sessions', 'ls', '--json'], ['sessions', 'ls', '--claim', 'repository_id=100007']]) {
    await time(`airlock ${args.join(' ')} (CLI, end to end)`, async () => {
      const out = execFileSync(process.execPath, [cli, ...args, '--state-dir', stateDir], { maxBuffer: 1024 * 1024 * 1024 });
      return out.toString('utf8').split('\n').length - 1;
    });
  }
  // No sidecars here, so compaction drops every line: it shows the cost of a read + rewrite.
  await time('compactIndex (read + readdir + rewrite)', async () => compactIndex(dir));
} finally {
  rmSync(stateDir, { recursive: true, force: true });
}
