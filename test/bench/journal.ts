// Scaling of the session journal, measured in-process on the real SessionStore: the cost of one
// exchange (begin + record, as the pipeline writes them) early in a session and after many.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SessionStore } from '../../appliance/recording/session/index.js';
import { createLogger } from '../../appliance/log.js';
import type { Exchange } from '../../appliance/lib/exchange-types.js';
import { sessionPaths } from '../../appliance/recording/journal/index.js';

export interface JournalResult {
  readonly exchanges: number;
  readonly batch: number;
  /** µs per exchange around the 1,000th. */
  readonly earlyUs: number;
  /** µs per exchange for the last batch. */
  readonly lateUs: number;
  /** late / early. */
  readonly ratio: number;
  readonly journalMb: number;
}

function exchange(i: number): Exchange {
  const body = Buffer.from('{"valid":true}');
  return {
    id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    startedDateTime: new Date().toISOString(),
    request: {
      method: 'GET',
      url: 'https://api.datadoghq.com/api/v1/validate',
      httpVersion: 'HTTP/1.1',
      headers: [
        ['host', 'api.datadoghq.com'],
        ['user-agent', 'datadog-api-client-typescript/1.64.0'],
        ['accept', 'application/json'],
        ['dd-api-key', 'ddapi0123456789abcdef0123456789ab'],
        ['dd-application-key', 'ddapp0123456789abcdef0123456789abcdef01'],
      ],
      body: null,
    },
    response: {
      status: 200,
      statusText: 'OK',
      httpVersion: 'HTTP/1.1',
      headers: [
        ['content-type', 'application/json'],
        ['content-length', String(body.length)],
        ['date', new Date().toUTCString()],
      ],
      body: { size: body.length, bytes: body, truncated: false },
    },
    timings: { blocked: 0.01, dns: -1, connect: -1, ssl: -1, send: 0.02, wait: 0.4, receive: 0.01 },
    serverIPAddress: '127.0.0.1',
    connection: '443',
    airlock: {
      decision: 'forwarded',
      grant: 'bench',
      credential: 'dd-bench',
      stripped: ['header:dd-api-key'],
      injected: ['header:dd-api-key', 'header:dd-application-key'],
    },
  };
}

export async function journalScaling(total: number, batch: number, dir: string): Promise<JournalResult> {
  const sessionsDir = mkdtempSync(join(dir, 'journal-'));
  const store = new SessionStore({ sessionsDir, maxBodyBytes: 1_048_576, idleTimeoutMs: 3_600_000, log: createLogger({ level: 'silent' }) });
  const meta = await store.ensure({
    issuer: 'github',
    iss: 'http://127.0.0.1',
    sub: 'repo:acme/app:ref:refs/heads/main',
    claims: { repository_id: '123456', ref: 'refs/heads/main', run_id: '1001', run_attempt: '1' },
    grant: 'bench',
    credential: 'dd-bench',
    expiresAt: Date.now() + 3_600_000,
  });
  const secrets = [
    { value: 'ddapi0123456789abcdef0123456789ab', label: 'credential dd-bench api key' },
    { value: 'ddapp0123456789abcdef0123456789abcdef01', label: 'credential dd-bench application key' },
    { value: 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln', label: 'identity token' },
  ];
  const one = async (i: number): Promise<void> => {
    const ex = exchange(i);
    await store.begin(meta.id, { id: ex.id, startedDateTime: ex.startedDateTime, method: 'GET', url: ex.request.url }, secrets);
    await store.record(meta.id, ex, secrets);
  };
  const timed = async (from: number, n: number): Promise<number> => {
    const t0 = performance.now();
    for (let i = from; i < from + n; i++) await one(i);
    return ((performance.now() - t0) * 1000) / n;
  };
  // Warm up to ~500 entries, then time the batch around the 1,000th; fill; time the last batch.
  let i = 0;
  for (; i < 1000 - batch / 2; i++) await one(i);
  const earlyUs = await timed(i, batch);
  i += batch;
  for (; i < total - batch; i++) await one(i);
  const lateUs = await timed(i, batch);
  const journalMb = statSync(sessionPaths(sessionsDir, meta.id).journal, { throwIfNoEntry: false })?.size ?? 0;
  // Not finalized: turning a 100,000-entry journal into a HAR is not what is measured here.
  store.stopIdleSweeper();
  rmSync(sessionsDir, { recursive: true, force: true });
  return { exchanges: total, batch, earlyUs, lateUs, ratio: lateUs / earlyUs, journalMb: journalMb / 1048576 };
}
