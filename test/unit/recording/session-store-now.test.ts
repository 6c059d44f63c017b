// The session store's answers that need no I/O come back as values (pipeline/ports.ts): an open
// session from ensure(), and begin()/record() lines written now when nothing else is in flight.
// The line must then be in the file when the call returns, in order, hash-chained as ever.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SessionStore } from '../../../appliance/recording/session/index.js';
import { sha256Hex } from '../../../appliance/recording/integrity/index.js';
import { exchange, identity, memoryLogger, SECRETS } from './exchange-fixtures.js';

async function setup(t: { after: (fn: () => Promise<void>) => void }) {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-now-'));
  const sessionsDir = join(dir, 'sessions');
  const store = new SessionStore({ sessionsDir, maxBodyBytes: 1024, idleTimeoutMs: 60_000, log: memoryLogger().log });
  t.after(async () => {
    await store.closeAll('test over');
    await rm(dir, { recursive: true, force: true });
  });
  return { sessionsDir, store };
}

const T0 = '2026-11-22T03:15:00.000Z';
const URL_ = 'https://api.datadoghq.com/api/v1/validate';

test('an open session is answered at once; a closed one is not reused: a new session opens (asynchronously)', async (t) => {
  const { store } = await setup(t);
  const opening = store.ensure(identity());
  assert.ok(opening instanceof Promise, 'opening a session writes files');
  const meta = await opening;
  const again = store.ensure(identity());
  assert.ok(!(again instanceof Promise), 'an open session needs no turn of the event loop');
  assert.equal(again.id, meta.id);
  await store.close(meta.id, 'test');
  const reopened = store.ensure(identity());
  assert.ok(reopened instanceof Promise);
  assert.notEqual((await reopened).id, meta.id);
});

test('begin and record with nothing else in flight: written before the call returns, chained, in order; with another in flight, a promise', async (t) => {
  const { sessionsDir, store } = await setup(t);
  const meta = await store.ensure(identity());
  const journal = join(sessionsDir, `${meta.id}.jsonl`);
  const lines = (): string[] => readFileSync(journal, 'utf8').split('\n').filter(Boolean);

  assert.equal(store.begin(meta.id, { id: 'a', startedDateTime: T0, method: 'GET', url: URL_ }, SECRETS), undefined);
  assert.equal(lines().length, 2, 'the begin line is in the file');
  assert.equal(store.record(meta.id, exchange({ id: 'a' }), SECRETS), undefined);
  assert.equal(lines().length, 3, 'the exchange line is in the file');

  // Two exchanges in flight: the second's lines go through the batched writer, as before.
  assert.equal(store.begin(meta.id, { id: 'b', startedDateTime: T0, method: 'GET', url: URL_ }, SECRETS), undefined);
  const c = store.begin(meta.id, { id: 'c', startedDateTime: T0, method: 'GET', url: URL_ }, SECRETS);
  assert.ok(c instanceof Promise, 'another exchange in flight: batched');
  await c;
  const recordB = store.record(meta.id, exchange({ id: 'b' }), SECRETS);
  assert.ok(recordB instanceof Promise);
  await recordB;
  await store.record(meta.id, exchange({ id: 'c' }), SECRETS);

  const all = lines();
  const parsed = all.map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(
    parsed.map((l) => `${String(l['type'])}:${String(l['id'])}`),
    [`session:${meta.id}`, 'begin:a', 'exchange:a', 'begin:b', 'begin:c', 'exchange:b', 'exchange:c'],
  );
  // Each line's prev is the SHA-256 of the line before it as written (chain.ts).
  for (let i = 1; i < all.length; i++) assert.equal(parsed[i]?.['prev'], sha256Hex(all[i - 1] ?? ''));
});

test('a begin into a session that is not open rejects (never throws), so a caller can await it', async (t) => {
  const { store } = await setup(t);
  const r = store.begin('20261122T031500Z-0123abcd', { id: 'a', startedDateTime: T0, method: 'GET', url: URL_ });
  assert.ok(r instanceof Promise);
  await assert.rejects(r, { code: 'RECORDING_FAILED' });
});
