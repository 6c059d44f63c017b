import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { NO_RESPONSE_ERROR } from '../../../appliance/recording/har/index.js';
import { SESSION_ID_PATTERN } from '../../../appliance/recording/journal/index.js';
import { exportSession, finalizeJournal, listSessions, SessionStore, showSession } from '../../../appliance/recording/session/index.js';
import { validateHar } from '../../fixtures/har-validate.js';
import { AGENT_KEY, body, exchange, gzipResponse, identity, memoryLogger, SECRETS, secretValuesIn, TOKEN, VAULT_KEY } from './exchange-fixtures.js';

interface Har {
  log: {
    pages: unknown[];
    creator: { name: string; version: string };
    _airlock: Record<string, unknown>;
    entries: Array<{ request: { url: string }; response: { status: number }; _error?: string }>;
  };
}

async function setup(t: { after: (fn: () => Promise<void>) => void }, over: { idleTimeoutMs?: number; now?: () => number } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-rec-'));
  const sessionsDir = join(dir, 'sessions');
  const { log, lines } = memoryLogger();
  const store = new SessionStore({
    sessionsDir,
    maxBodyBytes: 1024,
    idleTimeoutMs: over.idleTimeoutMs ?? 60_000,
    log,
    creatorVersion: '9.9.9',
    ...(over.now ? { now: over.now } : {}),
  });
  t.after(async () => {
    await store.closeAll('test over');
    await rm(dir, { recursive: true, force: true });
  });
  return { dir, sessionsDir, store, logLines: lines };
}

const readHar = async (path: string): Promise<Har> => JSON.parse(await readFile(path, 'utf8')) as Har;
const mode = async (p: string): Promise<number> => (await stat(p)).mode & 0o777;

function sink(): { out: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const out = new Writable({
    write(c: Buffer, _e, cb) {
      chunks.push(Buffer.from(c));
      cb();
    },
  });
  return { out, text: () => Buffer.concat(chunks).toString('utf8') };
}

async function allFilesText(dir: string): Promise<string> {
  const names = await readdir(dir);
  const texts = await Promise.all(names.map((n) => readFile(join(dir, n), 'utf8')));
  return texts.join('\n');
}

test('a session opens with a 0600 journal whose first line is the session, a 0600 sidecar, in a 0700 directory', async (t) => {
  const { sessionsDir, store } = await setup(t);
  const meta = await store.ensure(identity());
  assert.match(meta.id, SESSION_ID_PATTERN);
  assert.deepEqual(meta.claims, { sub: 'repo:acme/web:ref:refs/heads/main', run_id: '42', run_attempt: '1', repository: 'acme/web' });
  const journal = join(sessionsDir, `${meta.id}.jsonl`);
  const first = JSON.parse((await readFile(journal, 'utf8')).split('\n')[0] ?? '') as Record<string, unknown>;
  assert.equal(first['type'], 'session');
  assert.equal(first['id'], meta.id);
  assert.equal(await mode(sessionsDir), 0o700);
  assert.equal(await mode(journal), 0o600);
  assert.equal(await mode(join(sessionsDir, `${meta.id}.meta.json`)), 0o600);
  assert.equal(store.isOpen(meta.id), true);
});

test('concurrent ensure calls for one key share one session; another run attempt gets its own', async (t) => {
  const { sessionsDir, store } = await setup(t);
  const metas = await Promise.all(Array.from({ length: 10 }, async () => store.ensure(identity())));
  assert.equal(new Set(metas.map((m) => m.id)).size, 1);
  const other = await store.ensure(identity({ claims: { run_id: '42', run_attempt: '2' } }));
  assert.notEqual(other.id, metas[0]?.id);
  assert.equal((await readdir(sessionsDir)).filter((n) => n.endsWith('.jsonl')).length, 2);
});

test('a closed session becomes a valid HAR with identity, entries and no secret anywhere on disk or in logs', async (t) => {
  const { sessionsDir, store, logLines } = await setup(t);
  const meta = await store.ensure(identity());
  await store.begin(
    meta.id,
    { id: 'a', startedDateTime: '2026-11-22T03:15:00.000Z', method: 'POST', url: `https://api.datadoghq.com/api/v2/series?api_key=${AGENT_KEY}` },
    SECRETS,
  );
  await store.record(
    meta.id,
    exchange({ id: 'a', url: `https://api.datadoghq.com/api/v2/series?api_key=${AGENT_KEY}`, reqBody: body(`{"k":"${VAULT_KEY}","t":"${TOKEN}"}`) }),
    SECRETS,
  );
  await store.begin(meta.id, { id: 'b', startedDateTime: '2026-11-22T03:15:01.000Z', method: 'GET', url: 'https://api.datadoghq.com/api/v1/monitor' });
  await store.record(
    meta.id,
    exchange({ id: 'b', method: 'GET', url: 'https://api.datadoghq.com/api/v1/monitor', reqBody: null, response: gzipResponse(`{"echo":"${VAULT_KEY}"}`) }),
    SECRETS,
  );
  assert.deepEqual(secretValuesIn(await allFilesText(sessionsDir)), [], 'the open journal holds no secret');

  const harPath = await store.close(meta.id, 'explicit');
  assert.equal(harPath, join(sessionsDir, `${meta.id}.har`));
  assert.equal(store.isOpen(meta.id), false);
  assert.deepEqual((await readdir(sessionsDir)).sort(), [`${meta.id}.har`, `${meta.id}.meta.json`, 'index.ndjson']);
  assert.equal(await mode(harPath ?? ''), 0o600);
  const har = await readHar(harPath ?? '');
  assert.deepEqual(validateHar(har), []);
  assert.deepEqual(har.log.pages, []);
  assert.deepEqual(har.log.creator, { name: 'airlock', version: '9.9.9' });
  assert.equal(har.log.entries.length, 2);
  assert.equal(har.log._airlock['session'], meta.id);
  assert.equal(har.log._airlock['closeReason'], 'explicit');
  assert.equal(har.log._airlock['grant'], 'ci-metrics');
  assert.equal((har.log._airlock['claims'] as Record<string, unknown>)['exp'], undefined);
  assert.deepEqual(secretValuesIn(await allFilesText(sessionsDir)), []);
  assert.deepEqual(secretValuesIn(logLines.join('')), []);
  const [summary] = await listSessions(sessionsDir);
  assert.equal(summary?.status, 'closed');
  assert.equal(summary?.entryCount, 2);
  assert.equal(summary?.closeReason, 'explicit');
});

test('a close while a record is in flight waits for it, and the next request opens a new session', async (t) => {
  const { store } = await setup(t);
  const meta = await store.ensure(identity());
  await store.begin(meta.id, { id: 'a', startedDateTime: '2026-11-22T03:15:00.000Z', method: 'POST', url: 'https://api.datadoghq.com/x' });
  const recording = store.record(meta.id, exchange({ id: 'a' }), SECRETS);
  const closing = store.close(meta.id, 'explicit');
  await recording;
  const har = await readHar((await closing) ?? '');
  assert.equal(har.log.entries.length, 1);
  assert.equal(har.log.entries[0]?.response.status, 202);
  await assert.rejects(async () => store.record(meta.id, exchange({ id: 'z' }), SECRETS), { code: 'RECORDING_FAILED' });
  const next = await store.ensure(identity());
  assert.notEqual(next.id, meta.id);
});

test('a session idle for idleTimeoutMs is closed by the sweep, one with a request in flight is not', async (t) => {
  let clock = Date.parse('2026-11-22T03:15:00Z');
  const { store } = await setup(t, { idleTimeoutMs: 1000, now: () => clock });
  const quiet = await store.ensure(identity());
  const busy = await store.ensure(identity({ sub: 'repo:acme/api' }));
  await store.begin(busy.id, { id: 'slow', startedDateTime: '2026-11-22T03:15:00.000Z', method: 'GET', url: 'https://api.datadoghq.com/slow' });
  clock += 999;
  assert.deepEqual(await store.closeIdle(), []);
  clock += 1;
  assert.deepEqual(await store.closeIdle(), [quiet.id]);
  assert.equal(store.isOpen(quiet.id), false);
  assert.equal(store.isOpen(busy.id), true);
  clock += 4000;
  assert.deepEqual(await store.closeIdle(), [busy.id], 'a request stuck for 4x the timeout no longer holds the session');
});

test('a record marks activity and postpones the idle close', async (t) => {
  let clock = 1_000_000;
  const { store } = await setup(t, { idleTimeoutMs: 1000, now: () => clock });
  const meta = await store.ensure(identity());
  clock += 900;
  await store.record(meta.id, exchange({}), SECRETS);
  clock += 900;
  assert.deepEqual(await store.closeIdle(), []);
  clock += 100;
  assert.deepEqual(await store.closeIdle(), [meta.id]);
});

test('after kill -9 recover finalizes the journal: complete exchanges kept, torn line ignored, begun request is status 0', async (t) => {
  const { sessionsDir, store } = await setup(t);
  const meta = await store.ensure(identity());
  await store.begin(meta.id, { id: 'a', startedDateTime: '2026-11-22T03:15:00.000Z', method: 'POST', url: 'https://api.datadoghq.com/a' });
  await store.record(meta.id, exchange({ id: 'a', url: 'https://api.datadoghq.com/a' }), SECRETS);
  await store.begin(meta.id, { id: 'b', startedDateTime: '2026-11-22T03:15:01.000Z', method: 'GET', url: 'https://api.datadoghq.com/b' });
  const journal = join(sessionsDir, `${meta.id}.jsonl`);
  await appendFile(journal, 'this is garbage\n{"type":"exchange","id":"c","request":{"method":"GET","url":"https://api.da');

  // A second process on the same directory, as after a crash of the first.
  const { log } = memoryLogger();
  const fresh = new SessionStore({ sessionsDir, maxBodyBytes: 1024, idleTimeoutMs: 60_000, log });
  assert.deepEqual(await fresh.recover(), [meta.id]);
  const har = await readHar(join(sessionsDir, `${meta.id}.har`));
  assert.deepEqual(validateHar(har), []);
  assert.deepEqual(
    har.log.entries.map((e) => [e.request.url, e.response.status]),
    [
      ['https://api.datadoghq.com/a', 202],
      ['https://api.datadoghq.com/b', 0],
    ],
  );
  assert.equal(har.log.entries[1]?._error, NO_RESPONSE_ERROR);
  assert.equal(har.log._airlock['closeReason'], 'recovered after an unclean stop');
  assert.equal(await stat(journal).catch(() => null), null, 'the journal is gone');
});

test('an open session can be exported as a snapshot without disturbing the writer', async (t) => {
  const { sessionsDir, store } = await setup(t);
  const meta = await store.ensure(identity());
  await store.begin(meta.id, { id: 'a', startedDateTime: '2026-11-22T03:15:00.000Z', method: 'POST', url: 'https://api.datadoghq.com/a' });
  await store.record(meta.id, exchange({ id: 'a' }), SECRETS);
  await store.begin(meta.id, { id: 'b', startedDateTime: '2026-11-22T03:15:01.000Z', method: 'GET', url: 'https://api.datadoghq.com/b' });
  const s = sink();
  await exportSession(sessionsDir, meta.id, s.out);
  const snap = JSON.parse(s.text()) as Har;
  assert.deepEqual(validateHar(snap), []);
  assert.equal(snap.log.entries.length, 2);
  assert.equal(snap.log._airlock['closedAt'], null);
  assert.equal((await showSession(sessionsDir, meta.id)).entries, 2);

  await store.record(meta.id, exchange({ id: 'b' }), SECRETS);
  await store.flush();
  const [summary] = await listSessions(sessionsDir);
  assert.equal(summary?.status, 'open');
  assert.equal(summary?.entryCount, 2, 'the sidecar is refreshed on the flush tick');
  const harPath = await store.close(meta.id, 'explicit');
  const final = await readHar(harPath ?? '');
  assert.equal(final.log.entries.length, 2);
  assert.ok(final.log.entries.every((e) => e.response.status === 202));
  const closed = sink();
  await exportSession(sessionsDir, meta.id, closed.out);
  assert.equal(closed.text(), await readFile(harPath ?? '', 'utf8'));
});

test('exporting an unknown id fails with SESSION_NOT_FOUND and a path-like id with SESSION_ID_INVALID', async (t) => {
  const { sessionsDir } = await setup(t);
  await assert.rejects(exportSession(sessionsDir, '20261122T031500Z-0123abcd', sink().out), { code: 'SESSION_NOT_FOUND' });
  await assert.rejects(exportSession(sessionsDir, '../../etc/passwd', sink().out), { code: 'SESSION_ID_INVALID' });
  await assert.rejects(showSession(sessionsDir, '20261122T031500Z-0123abcd'), { code: 'SESSION_NOT_FOUND' });
  assert.deepEqual(await listSessions(join(sessionsDir, 'missing')), []);
});

test('an orphaned journal can be finalized by the CLI without a store, once', async (t) => {
  const { sessionsDir, store } = await setup(t);
  const meta = await store.ensure(identity());
  await store.record(meta.id, exchange({ id: 'a' }), SECRETS);
  // Simulates the CLI's `sessions close ID` with no server running (the store is not told).
  const r = await finalizeJournal(sessionsDir, meta.id, 'closed by operator');
  assert.equal(r.entryCount, 1);
  const shown = await showSession(sessionsDir, meta.id);
  assert.equal(shown.status, 'closed');
  assert.equal(shown.entries, 1);
  await assert.rejects(finalizeJournal(sessionsDir, meta.id, 'again'), { code: 'SESSION_NOT_FOUND' });
});

test('a session whose sessions dir cannot be written is refused with RECORDING_FAILED and the reason is logged', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-rec-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const notADir = join(dir, 'sessions');
  await writeFile(notADir, 'a regular file');
  const { log, lines } = memoryLogger();
  const store = new SessionStore({ sessionsDir: notADir, maxBodyBytes: 1024, idleTimeoutMs: 60_000, log });
  await assert.rejects(
    async () => store.ensure(identity()),
    (err: unknown) => {
      assert.equal((err as { code?: string }).code, 'RECORDING_FAILED');
      return true;
    },
  );
  await assert.rejects(store.recover(), { code: 'RECORDING_FAILED' });
  assert.ok(
    lines.some((l) => l.includes('recording failed') && l.includes('EEXIST')),
    lines.join(''),
  );
  await store.closeAll('test over');
});

test('recording into a session that is not open is refused with RECORDING_FAILED', async (t) => {
  const { store } = await setup(t);
  await assert.rejects(
    async () => store.begin('20261122T031500Z-0123abcd', { id: 'a', startedDateTime: '2026-11-22T03:15:00.000Z', method: 'GET', url: 'https://x.example/' }),
    { code: 'RECORDING_FAILED' },
  );
});

test('closeAll finalizes every open session and then refuses new ones with SHUTTING_DOWN', async (t) => {
  const { sessionsDir, store } = await setup(t);
  const a = await store.ensure(identity());
  const b = await store.ensure(identity({ sub: 'other' }));
  await store.closeAll('shutdown');
  assert.equal(store.isOpen(a.id), false);
  assert.equal(store.isOpen(b.id), false);
  const names = await readdir(sessionsDir);
  assert.ok(names.includes(`${a.id}.har`) && names.includes(`${b.id}.har`));
  assert.equal(names.filter((n) => n.endsWith('.jsonl')).length, 0);
  await assert.rejects(async () => store.ensure(identity()), { code: 'SHUTTING_DOWN' });
});
