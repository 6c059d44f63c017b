// Metrics a real Prometheus scrapes: `airlock serve` with its admin listener on an OS-chosen
// loopback port, Debian's prometheus started here with a generated config scraping it every
// second, traffic through the proxy with curl, then PromQL through Prometheus' HTTP API. The
// metric names pass `promtool check metrics`; no label carries a path, a session id or a sub.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAirlock, curlVia, type Airlock } from '../fixtures/airlock-process.js';
import { skipOutsideCi } from '../fixtures/skip-outside-ci.js';
import { freePort } from '../fixtures/free-port.js';
import { waitFor } from '../fixtures/wait-for.js';

const HAVE = spawnSync('prometheus', ['--version']).status === 0 && spawnSync('promtool', ['--version']).status === 0;
const WHY = HAVE ? null : 'prometheus and promtool are not installed (apt-get install prometheus)';

let a: Airlock;
let adminPort = 0;
let prom: ChildProcess | undefined;
let promPort = 0;
const dir = mkdtempSync(join(tmpdir(), 'airlock-prom-'));

async function admin(path: string): Promise<{ status: number; text: string }> {
  const r = await fetch(`http://127.0.0.1:${adminPort}${path}`, { signal: AbortSignal.timeout(10_000) });
  return { status: r.status, text: await r.text() };
}

/** waitFor, where a probe that throws (Prometheus not up yet) means "not yet"; a timeout names the last error. */
async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  let last: unknown;
  const probe = (): Promise<T | undefined> =>
    fn().catch((err: unknown) => {
      last = err;
      return undefined;
    });
  return waitFor(what, probe, ms, 250).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}${last === undefined ? '' : `: ${last instanceof Error ? last.message : JSON.stringify(last)}`}`);
  });
}

/** One instant query; the single sample's value, or undefined while there is none. */
async function promql(q: string): Promise<number | undefined> {
  const r = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(q)}`, { signal: AbortSignal.timeout(5_000) });
  const body = (await r.json()) as { status: string; data: { result: { value: [number, string] }[] } };
  assert.equal(body.status, 'success');
  const v = body.data.result[0]?.value[1];
  return v === undefined ? undefined : Number(v);
}

before(async () => {
  if (!HAVE) return;
  a = await startAirlock();
  const line = a.logs.find((l) => l.includes('admin listener'));
  assert.ok(line, 'the server logs where its admin listener is');
  adminPort = (JSON.parse(line) as { port: number }).port;
  promPort = await freePort();
  const cfg = join(dir, 'prometheus.yml');
  writeFileSync(
    cfg,
    `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: airlock\n    static_configs:\n      - targets: ['127.0.0.1:${adminPort}']\n`,
  );
  prom = spawn(
    'prometheus',
    [`--config.file=${cfg}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn'],
    { stdio: 'ignore' },
  );
});

after(async () => {
  if (prom && prom.exitCode === null) {
    const gone = new Promise((r) => prom!.once('exit', r));
    prom.kill('SIGTERM');
    await gone;
  }
  await a?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

test('healthz answers 200 and readyz reports ready once the issuer keys are loaded', async (t) => {
  if (skipOutsideCi(t, WHY)) return;
  assert.equal((await admin('/healthz')).status, 200);
  const ready = await until('readyz 200', async () => {
    const r = await admin('/readyz');
    return r.status === 200 ? (JSON.parse(r.text) as { ready: boolean; checks: Record<string, { ok: boolean }> }) : undefined;
  });
  assert.equal(ready.ready, true);
  for (const k of ['ca', 'vault', 'journal', 'issuers']) assert.equal(ready.checks[k]?.ok, true, k);
  assert.equal((await admin('/nope')).status, 404);
});

test('a real Prometheus scrapes Airlock and PromQL returns the request counts after traffic', async (t) => {
  if (skipOutsideCi(t, WHY)) return;
  const token = await a.issuer.mint({ run_id: 'prom-1' });
  for (let i = 0; i < 3; i++) {
    const r = await curlVia(a, token, 'https://api.datadoghq.com/api/v1/validate', ['--fail']);
    assert.equal(r.code, 0, r.stderr);
  }
  const refused = await curlVia(a, null, 'https://api.datadoghq.com/api/v1/validate', ['-o', '/dev/null', '-w', '%{http_code}']);
  assert.equal(refused.stdout, '407');
  const up = await until('the target up', () => promql('up{job="airlock"}').then((v) => (v === 1 ? v : undefined)));
  assert.equal(up, 1);
  const forwarded = await until('3 forwarded requests', () =>
    promql('sum(airlock_requests_total{job="airlock",decision="forwarded",grant="dashboards-bot",host_class="datadog"})').then((v) =>
      v === 3 ? v : undefined,
    ),
  );
  assert.equal(forwarded, 3);
  assert.equal(await until('the refusal', () => promql('sum(airlock_requests_total{code="TOKEN_MISSING"})')), 1);
  assert.equal(await until('upstream latency count', () => promql('sum(airlock_upstream_latency_seconds_count)').then((v) => (v === 3 ? v : undefined))), 3);
  const journal = await until('journal writes', () => promql('sum(airlock_journal_write_seconds_count{op="begin"})'));
  assert.ok(journal >= 3, `journal begins counted: ${journal}`);
  assert.equal(await promql('airlock_open_sessions'), 1);
});

test('the metric names pass promtool check metrics, and no label holds a path, session id or sub', async (t) => {
  if (skipOutsideCi(t, WHY)) return;
  const { text } = await admin('/metrics');
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.equal(r.status, 0, `promtool check metrics:\n${r.stdout}${r.stderr}`);
  for (const name of [
    'airlock_requests_total',
    'airlock_upstream_latency_seconds_bucket',
    'airlock_added_latency_seconds_bucket',
    'airlock_request_bytes_total',
    'airlock_open_connections',
    'airlock_open_sessions',
    'airlock_approvals_waiting',
    'airlock_approvals_oldest_age_seconds',
    'airlock_journal_write_seconds_bucket',
    'airlock_journal_write_failures_total',
    'airlock_outbox_depth',
    'airlock_outbox_oldest_age_seconds',
    'airlock_vault_entry_age_seconds',
    'airlock_jwks_fetch_failures_total',
    'airlock_process_cpu_seconds_total',
  ]) {
    assert.match(text, new RegExp(`^${name}[{ ]`, 'm'), name);
  }
  const sessions = JSON.parse((await a.cli(['sessions', 'ls', '--json'])).stdout) as { id: string; sub: string }[];
  assert.ok(sessions.length > 0);
  for (const s of sessions) {
    assert.ok(!text.includes(s.id), 'no session id in any label');
    assert.ok(!text.includes(`"${s.sub}"`), 'no sub in any label');
  }
  assert.ok(!text.includes('/api/v1/validate'), 'no path in any label');
  assert.ok(!text.includes(a.apiKey), 'no key');
});
