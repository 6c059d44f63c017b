// The metrics that come from other parts: the outbox on disk, journal writes through the sessions
// port, and identity fetches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { enqueue } from '../../../appliance/shipping/outbox.js';
import { createMetrics } from '../../../appliance/metrics/server-metrics.js';
import { countFailures, instrumentSessions } from '../../../appliance/metrics/instrument.js';
import { configSchema } from '../../../appliance/config/schema.js';
import { createLogger } from '../../../appliance/log.js';
import type { SessionsPort } from '../../../appliance/pipeline/ports.js';
import type { Config } from '../../../appliance/config/schema.js';

function metricsFor(stateDir: string, now: () => number) {
  const config = configSchema.parse({ stateDir }) as Config;
  return createMetrics({
    config,
    log: createLogger({ level: 'silent' }),
    now,
    openConnections: () => 0,
    openSessions: () => 0,
    approvals: () => [],
    vaultTimes: () => [],
    issuersWithKeys: () => 0,
    sessionsDir: join(stateDir, 'sessions'),
  });
}

test("the outbox gauges read the outbox on disk at scrape time: depth and the oldest item's age", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-metrics-'));
  try {
    let now = Date.parse('2026-12-07T10:00:00Z');
    const m = metricsFor(dir, () => now);
    assert.match(await m.text(), /^airlock_outbox_depth 0$/m);
    await enqueue(dir, '20261207T095000Z-0123abcd', Date.parse('2026-12-07T09:50:00Z'));
    await enqueue(dir, '20261207T095500Z-0123abce', Date.parse('2026-12-07T09:55:00Z'));
    now = Date.parse('2026-12-07T10:00:00Z');
    const text = await m.text();
    assert.match(text, /^airlock_outbox_depth 2$/m);
    assert.match(text, /^airlock_outbox_oldest_age_seconds 600$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('journal writes through the instrumented sessions port are timed, and a failed one is counted and still thrown', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-metrics-'));
  try {
    const m = metricsFor(dir, Date.now);
    let fail = false;
    const port: SessionsPort = {
      ensure: () => Promise.reject(new Error('unused')),
      begin: () => (fail ? Promise.reject(new Error('ENOSPC')) : Promise.resolve()),
      record: () => Promise.resolve(),
    };
    const s = instrumentSessions(port, m, () => performance.now());
    await s.begin('x', { id: 'e', startedDateTime: '', method: 'GET', url: 'https://a/' });
    fail = true;
    await assert.rejects(async () => s.begin('x', { id: 'e', startedDateTime: '', method: 'GET', url: 'https://a/' }), /ENOSPC/);
    const text = await m.text();
    assert.match(text, /^airlock_journal_write_seconds_count\{op="begin"\} 2$/m);
    assert.match(text, /^airlock_journal_write_failures_total\{op="begin"\} 1$/m);
    assert.match(text, /^airlock_journal_write_failures_total\{op="record"\} 0$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a failed identity fetch is counted and its error passes through unchanged', async () => {
  let n = 0;
  const fetch = countFailures(
    (url: string) => (url.includes('bad') ? Promise.reject(new Error('ECONNREFUSED')) : Promise.resolve({ keys: [] })),
    () => n++,
  );
  assert.deepEqual(await fetch('https://good/jwks'), { keys: [] });
  await assert.rejects(fetch('https://bad/jwks'), /ECONNREFUSED/);
  assert.equal(n, 1);
});
