// The benchmark's quick mode runs to the end and writes every scenario: a smoke check of the
// harness, not of performance (no figure is compared with anything here).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const BENCH = resolve(import.meta.dirname, '../bench/bench.js');
const INDEX_BENCH = resolve(import.meta.dirname, '../bench/sessions-index-bench.js');
const PROXIES = ['direct', 'http-mitm-proxy', 'airlock', 'airlock-session', 'mitmdump'];
const LOADS = ['keepalive-c1', 'keepalive-c32', 'new-connection'];

function runNode(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('exit', (code) => done({ code, stdout, stderr }));
  });
}

test('npm run bench -- --quick completes and writes JSON and markdown with every scenario', { timeout: 170_000 }, async () => {
  const out = mkdtempSync(join(tmpdir(), 'bench-quick-'));
  try {
    const r = await runNode([BENCH, '--quick', '--out', out]);
    assert.equal(r.code, 0, r.stderr.slice(-4000));
    const files = readdirSync(out);
    const json = files.find((f) => /^bench-.*\.json$/.test(f));
    const md = files.find((f) => /^bench-.*\.md$/.test(f));
    assert.ok(json && md, `bench wrote ${files.join(', ')}`);
    const report = JSON.parse(readFileSync(join(out, json), 'utf8')) as {
      meta: { mode: string };
      proxies: Record<
        string,
        {
          skipped?: string;
          error?: string;
          loads: Record<string, { requests: number; errors: number }>;
          firstHost?: unknown;
          idle?: { opened: number };
          stream?: { error?: string };
        }
      >;
      journal: { ratio?: number };
      paired: Record<string, { skipped?: string; rounds?: { bare: { requests: number; errors: number }; airlock: { requests: number; errors: number } }[] }>;
      ratios: Record<string, unknown>;
      targets: { name: string; met: boolean | null }[];
    };
    assert.equal(report.meta.mode, 'quick');
    for (const name of PROXIES) {
      const p = report.proxies[name];
      assert.ok(p, `${name} is in the report`);
      assert.equal(p.error, undefined, `${name}: ${p.error}`);
      if (p.skipped) {
        // Only these may be skipped, and only with a reason.
        assert.ok(name === 'mitmdump' || name === 'airlock-session', `${name} skipped: ${p.skipped}`);
        assert.match(p.skipped, /^skipped: /);
        continue;
      }
      for (const l of LOADS) {
        assert.ok(p.loads[l], `${name} ${l}`);
        assert.ok(p.loads[l].requests > 0, `${name} ${l} completed requests`);
        assert.equal(p.loads[l].errors, 0, `${name} ${l} had no errors`);
      }
      assert.ok(p.firstHost, `${name} first-host figures`);
      if (name !== 'direct') {
        assert.ok(p.idle && p.idle.opened > 0, `${name} idle connections`);
        assert.ok(p.stream && p.stream.error === undefined, `${name} large body: ${p.stream?.error}`);
      }
      assert.ok(name in report.ratios, `${name} has ratios`);
    }
    assert.equal(typeof report.journal.ratio, 'number', 'journal scaling measured');
    for (const load of ['keepalive-c16', 'keepalive-c32', 'new-connection-jwt', 'new-connection-session']) {
      const p = report.paired[load];
      if (load === 'new-connection-session' && p?.skipped !== undefined && report.proxies['airlock-session']?.skipped) continue;
      assert.ok(p?.rounds && p.rounds.length === 2, `paired rounds, ${load}: ${JSON.stringify(p).slice(0, 300)}`);
      for (const r of p.rounds)
        assert.ok(
          r.bare.requests > 0 && r.airlock.requests > 0 && r.bare.errors === 0 && r.airlock.errors === 0,
          `${load}: each round measured both without errors`,
        );
    }
    assert.match(readFileSync(join(out, md), 'utf8'), /median of 2 alternating rounds/);
    assert.ok(report.targets.length >= 11, 'every goal of issue #17 is reported');
    const text = readFileSync(join(out, md), 'utf8');
    assert.match(text, /\| airlock \|/);
    assert.match(r.stdout, /Targets \(measured, not asserted\)/, 'the table went to stdout too');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('npm run bench:sessions on a small index completes and times every listing, the CLI included', { timeout: 120_000 }, async () => {
  const r = await runNode([INDEX_BENCH, '300']);
  assert.equal(r.code, 0, r.stderr.slice(-4000));
  const timed = r.stdout.split('\n').filter((l) => / ms {2}\(/.test(l));
  assert.equal(timed.length, 12, r.stdout);
  assert.match(r.stdout, /compactIndex .* ms {2}\(300 sessions\)/);
  assert.match(r.stdout, /sessions ls \(newest 100\) .* \(100 shown of uncounted\)/, 'the compacted listing stops at the limit');
  assert.match(r.stdout, /sessions ls --limit 0 .* \(1300 shown of 1300\)/);
});
