// The metrics' own promises: bounded label sets, names the shipped alert rules can rely on, and
// rules that promtool accepts and whose unit tests pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { AirlockMetrics } from '../../../appliance/metrics/metrics.js';
import { DECISIONS } from '../../../appliance/lib/decision.js';
import { hostClassOf } from '../../../appliance/metrics/server-metrics.js';
import { readiness } from '../../../appliance/metrics/readiness.js';
import { skipOutsideCi } from '../../fixtures/skip-outside-ci.js';

const DOCS = resolve(import.meta.dirname, '../../../../docs/prometheus');
const HAVE_PROMTOOL = spawnSync('promtool', ['--version']).status === 0;

function metrics(): AirlockMetrics {
  return new AirlockMetrics({
    hostClass: hostClassOf(['datadoghq.com']),
    grants: ['ci'],
    processMetrics: false,
    sources: {
      approvals: () => [{ ageSeconds: 5 }, { ageSeconds: 42 }],
      openSessions: () => 2,
      vaultEntries: () => [{ name: 'dd-prod', updatedAt: new Date(Date.now() - 10_000).toISOString() }],
    },
  });
}

function series(text: string, name: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
}

test('request labels stay bounded: thousands of distinct codes, grants and hosts make at most 64 values each, never a host name', async () => {
  const m = metrics();
  for (let i = 0; i < 3000; i++)
    m.request({ decision: DECISIONS[i % DECISIONS.length]!, code: `CODE_${i}`, grant: `grant-${i}`, host: `h${i}.example.com` }, 1, 0.1);
  m.request({ decision: 'forwarded', code: 'has space', grant: 'x/y', host: 'api.datadoghq.com' }, 1, 0.1);
  const text = await m.text();
  const lines = series(text, 'airlock_requests_total');
  const codes = new Set(lines.map((l) => /code="([^"]*)"/.exec(l)?.[1]));
  const grants = new Set(lines.map((l) => /grant="([^"]*)"/.exec(l)?.[1]));
  assert.ok(codes.size <= 65 && codes.has('other'), `codes: ${codes.size}`);
  assert.ok(grants.size <= 65 && grants.has('other'), `grants: ${grants.size}`);
  assert.ok(!text.includes('example.com') && !text.includes('has space') && !text.includes('x/y'));
  assert.deepEqual(new Set(lines.map((l) => /host_class="([^"]*)"/.exec(l)?.[1])), new Set(['custom', 'datadog']));
});

test('scrape-time gauges read their sources: holds waiting and the oldest age, open sessions, vault entry age', async () => {
  const text = await metrics().text();
  assert.match(text, /^airlock_approvals_waiting 2$/m);
  assert.match(text, /^airlock_approvals_oldest_age_seconds 42$/m);
  assert.match(text, /^airlock_open_sessions 2$/m);
  const age = Number(/^airlock_vault_entry_age_seconds\{credential="dd-prod"\} (\S+)$/m.exec(text)?.[1]);
  assert.ok(age >= 10 && age < 60, String(age));
});

test('readyz is not ready without an issuer, with unreachable keys or an unwritable journal, and says which', async () => {
  const ok = { ca: () => true, vault: () => true, journalWritable: () => Promise.resolve(), issuerKeys: () => 1, issuers: 1 };
  assert.equal((await readiness(ok)).ready, true);
  const none = await readiness({ ...ok, issuers: 0, issuerKeys: () => 0 });
  assert.equal(none.ready, false);
  assert.match(none.checks.issuers.detail, /no issuer configured/);
  assert.equal((await readiness({ ...ok, issuerKeys: () => 0 })).checks.issuers.ok, false);
  const ro = await readiness({ ...ok, journalWritable: () => Promise.reject(Object.assign(new Error('x'), { code: 'EROFS' })) });
  assert.deepEqual([ro.ready, ro.checks.journal.detail], [false, 'not writable: EROFS']);
  assert.equal((await readiness({ ...ok, vault: () => false })).ready, false);
});

test('every airlock_ series the shipped alert rules use is one Airlock exports', async () => {
  const m = metrics();
  m.request({ decision: 'forwarded', host: 'api.datadoghq.com' }, 1, 1);
  const text = await m.text();
  const rules = readFileSync(resolve(DOCS, 'airlock.rules.yml'), 'utf8');
  const used = new Set([...rules.matchAll(/\b(airlock_[a-z_]+)/g)].map((x) => x[1]!));
  assert.ok(used.size >= 4);
  for (const name of used) assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), `${name} is exported`);
});

test('promtool check rules accepts the shipped rules and promtool test rules passes their unit tests', (t) => {
  if (skipOutsideCi(t, !HAVE_PROMTOOL && 'promtool is not installed (apt-get install prometheus)')) return;
  const check = spawnSync('promtool', ['check', 'rules', 'airlock.rules.yml'], { cwd: DOCS, encoding: 'utf8' });
  assert.equal(check.status, 0, check.stdout + check.stderr);
  assert.match(check.stdout, /SUCCESS: \d+ rules found/);
  const unit = spawnSync('promtool', ['test', 'rules', 'airlock.rules.test.yml'], { cwd: DOCS, encoding: 'utf8' });
  assert.equal(unit.status, 0, unit.stdout + unit.stderr);
});
