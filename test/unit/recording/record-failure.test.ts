// The store's states when the disk fills between an exchange's begin and its record (issue #11,
// finding 8): the journal is put behind a quota, so a write fails the way a full disk fails it
// (part written, then ENOSPC), without needing root or a real full disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ftruncateSync, writeSync } from 'node:fs';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type JournalFile, type OpenJournalFile, RESPONSE_NOT_RECORDED } from '../../../appliance/recording/journal/index.js';
import { finalizeJournal, SessionStore, type SpaceReserve } from '../../../appliance/recording/session/index.js';
import { NO_RESPONSE_ERROR } from '../../../appliance/recording/har/index.js';
import { body, exchange, identity, memoryLogger, SECRETS, secretValuesIn } from './exchange-fixtures.js';

interface Disk {
  /** Bytes the journals may still take; Infinity for no limit. */
  free: number;
  /** Make the next truncate fail (a journal that cannot be cut back). */
  failTruncate: boolean;
}

function quotaOpener(disk: Disk): OpenJournalFile {
  return async (path) => {
    const fh = await open(path, 'ax', 0o600);
    let size = 0;
    /** What write(2) would take: part of the buffer, or ENOSPC when there is no room at all. */
    const room = (len: number): number => {
      const n = Math.min(len, disk.free);
      if (n <= 0) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
      return n;
    };
    const wrote = (n: number): number => {
      disk.free -= n;
      size += n;
      return n;
    };
    const cut = (len: number): void => {
      if (disk.failTruncate) throw Object.assign(new Error('i/o error'), { code: 'EIO' });
      ftruncateSync(fh.fd, len);
      disk.free += size - len;
      size = len;
    };
    const file: JournalFile = {
      async write(buf, off, len) {
        const r = await fh.write(buf, off, room(len));
        wrote(r.bytesWritten);
        return r;
      },
      writeSync: (buf, off, len) => wrote(writeSync(fh.fd, buf, off, room(len))),
      truncate: async (len) => {
        await Promise.resolve();
        cut(len);
      },
      truncateSync: cut,
      sync: () => fh.sync(),
      close: () => fh.close(),
    };
    return file;
  };
}

/** A reserve that takes its bytes out of the same quota as the journals. */
function quotaReserve(disk: Disk, bytes: number): SpaceReserve & { takes: number } {
  let held = false;
  return {
    takes: 0,
    get held() {
      return held;
    },
    async take() {
      if (held) return;
      if (disk.free < bytes) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
      disk.free -= bytes;
      held = true;
      this.takes++;
    },
    async release() {
      if (!held) return false;
      held = false;
      disk.free += bytes;
      return true;
    },
  };
}

async function setup(t: { after: (fn: () => Promise<void>) => void }, now?: () => number, withReserve = false) {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-recfail-'));
  const sessionsDir = join(dir, 'sessions');
  const disk: Disk = { free: Infinity, failTruncate: false };
  const { log, lines } = memoryLogger();
  const reserve = quotaReserve(disk, 16 * 1024);
  const store = new SessionStore({
    sessionsDir,
    maxBodyBytes: 1024 * 1024,
    idleTimeoutMs: 60_000,
    log,
    creatorVersion: '9.9.9',
    openJournal: quotaOpener(disk),
    ...(now ? { now } : {}),
    ...(withReserve ? { reserve } : {}),
  });
  t.after(async () => {
    disk.free = Infinity;
    disk.failTruncate = false;
    await store.closeAll('test over');
    await rm(dir, { recursive: true, force: true });
  });
  const meta = await store.ensure(identity());
  const journal = join(sessionsDir, `${meta.id}.jsonl`);
  return { sessionsDir, store, disk, meta, journal, reserve, logLines: lines };
}

const T0 = '2026-11-22T03:15:00.000Z';
const URL_ = 'https://api.datadoghq.com/api/v2/series';
const bigResponse = (): NonNullable<ReturnType<typeof exchange>['response']> => ({
  status: 200,
  statusText: 'OK',
  httpVersion: 'HTTP/1.1',
  headers: [['Content-Type', 'application/json']],
  body: body(JSON.stringify({ pad: 'y'.repeat(200_000) })),
});

interface Har {
  log: {
    entries: Array<{ request: { url: string }; response: { status: number }; _error?: string; _airlock: { errorCode?: string; decision: string } }>;
    _airlock: { chain: { journal?: { intact: boolean } } };
  };
}
const readHar = async (path: string | null): Promise<Har> => JSON.parse(await readFile(path ?? '', 'utf8')) as Har;
const journalLines = async (path: string): Promise<Array<Record<string, unknown>>> =>
  (await readFile(path, 'utf8'))
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

test('a forwarded exchange whose record does not fit throws RECORDING_INCOMPLETE, the torn bytes are cut off, and its short line is written at once when it fits', async (t) => {
  const { store, disk, meta, journal } = await setup(t);
  await store.begin(meta.id, { id: 'big', startedDateTime: T0, method: 'GET', url: URL_ });
  disk.free = 8 * 1024;
  await assert.rejects(async () => store.record(meta.id, exchange({ id: 'big', response: bigResponse() }), SECRETS), {
    code: 'RECORDING_INCOMPLETE',
    status: 502,
  });
  const lines = await journalLines(journal);
  assert.deepEqual(
    lines.map((l) => l['type']),
    ['session', 'begin', 'exchange'],
    'no torn line: every line parses',
  );
  assert.match(String(lines[2]?.['error']), new RegExp(`^${RESPONSE_NOT_RECORDED}: the upstream answered 200`));
  assert.equal((lines[2]?.['request'] as { body: unknown }).body, null);
  // What the client got is recorded: Airlock's own 502 RECORDING_INCOMPLETE, not the withheld 200.
  assert.equal((lines[2]?.['response'] as { status: number }).status, 502);
  assert.deepEqual(lines[2]?.['airlock'], { ...(lines[2]?.['airlock'] as object), code: 'RECORDING_INCOMPLETE', forwarded: true });
  assert.ok(store.isOpen(meta.id), 'the session goes on');

  disk.free = Infinity;
  await store.begin(meta.id, { id: 'next', startedDateTime: T0, method: 'GET', url: URL_ });
  await store.record(meta.id, exchange({ id: 'next' }), SECRETS);
  const har = await readHar(await store.close(meta.id, 'explicit'));
  assert.deepEqual(
    har.log.entries.map((e) => e._airlock.errorCode ?? e.response.status),
    ['RECORDING_INCOMPLETE', 202],
  );
  assert.equal(har.log._airlock.chain.journal?.intact, true, 'the journal chain has no gap where the cut was');
});

test('while the short line cannot be written the next begin is refused with RECORDING_FAILED, and once it can it lands before that begin', async (t) => {
  const { store, disk, meta, journal } = await setup(t);
  await store.begin(meta.id, { id: 'big', startedDateTime: T0, method: 'GET', url: URL_ });
  disk.free = 100;
  await assert.rejects(async () => store.record(meta.id, exchange({ id: 'big', response: bigResponse() }), SECRETS), { code: 'RECORDING_INCOMPLETE' });
  assert.deepEqual(
    (await journalLines(journal)).map((l) => l['type']),
    ['session', 'begin'],
    'the short line is pending in memory',
  );

  disk.free = 0;
  await assert.rejects(async () => store.begin(meta.id, { id: 'refused', startedDateTime: T0, method: 'GET', url: URL_ }), { code: 'RECORDING_FAILED' });
  // Room for a begin but not for the pending line first: still refused, and the begin is not written alone.
  disk.free = 300;
  await assert.rejects(async () => store.begin(meta.id, { id: 'refused2', startedDateTime: T0, method: 'GET', url: URL_ }), { code: 'RECORDING_FAILED' });
  assert.deepEqual(
    (await journalLines(journal)).map((l) => l['type']),
    ['session', 'begin'],
  );

  disk.free = Infinity;
  await store.begin(meta.id, { id: 'next', startedDateTime: T0, method: 'GET', url: URL_ });
  const lines = await journalLines(journal);
  assert.deepEqual(lines.map((l) => `${String(l['type'])}:${String(l['id'])}`).slice(1), ['begin:big', 'exchange:big', 'begin:next']);
  await store.record(meta.id, exchange({ id: 'next' }), SECRETS);
  const har = await readHar(await store.close(meta.id, 'explicit'));
  assert.equal(har.log.entries.length, 2, 'the refused begins left nothing behind');
  assert.match(har.log.entries[0]?._error ?? '', /^forwarded, response not recorded/);
  assert.ok(!JSON.stringify(har).includes(NO_RESPONSE_ERROR));
});

test('concurrent begins while a short line is pending write it once', async (t) => {
  const { store, disk, meta, journal } = await setup(t);
  await store.begin(meta.id, { id: 'big', startedDateTime: T0, method: 'GET', url: URL_ });
  disk.free = 100;
  await assert.rejects(async () => store.record(meta.id, exchange({ id: 'big', response: bigResponse() }), SECRETS), { code: 'RECORDING_INCOMPLETE' });
  disk.free = Infinity;
  await Promise.all(['a', 'b', 'c'].map(async (id) => store.begin(meta.id, { id, startedDateTime: T0, method: 'GET', url: URL_ })));
  const ids = (await journalLines(journal)).filter((l) => l['type'] === 'exchange').map((l) => l['id']);
  assert.deepEqual(ids, ['big']);
});

test('closing writes the pending short line once the disk has room, and the HAR says forwarded, response not recorded, with no secret', async (t) => {
  const { sessionsDir, store, disk, meta, logLines } = await setup(t);
  await store.begin(meta.id, { id: 'big', startedDateTime: T0, method: 'GET', url: URL_ }, SECRETS);
  disk.free = 0;
  await assert.rejects(async () => store.record(meta.id, exchange({ id: 'big', response: bigResponse() }), SECRETS), { code: 'RECORDING_INCOMPLETE' });
  disk.free = Infinity;
  const har = await readHar(await store.close(meta.id, 'explicit'));
  assert.equal(har.log.entries.length, 1);
  const e = har.log.entries[0]!;
  assert.match(e._error ?? '', /^forwarded, response not recorded: the upstream answered 200/);
  assert.equal(e._airlock.errorCode, 'RECORDING_INCOMPLETE');
  assert.deepEqual(secretValuesIn(await readFile(join(sessionsDir, `${meta.id}.har`), 'utf8')), []);
  assert.deepEqual(secretValuesIn(logLines.join('')), []);
});

test('a refused exchange whose record fails throws RECORDING_FAILED and its short line keeps its own error', async (t) => {
  const { store, disk, meta, journal } = await setup(t);
  disk.free = 0;
  const refused = { ...exchange({ id: 'r', response: null, error: 'refused by Airlock: POLICY_DENIED (403)', reqBody: body('x'.repeat(50_000)) }) };
  await assert.rejects(async () => store.record(meta.id, refused, SECRETS), { code: 'RECORDING_FAILED' });
  disk.free = Infinity;
  await store.begin(meta.id, { id: 'next', startedDateTime: T0, method: 'GET', url: URL_ });
  const line = (await journalLines(journal)).find((l) => l['id'] === 'r');
  assert.match(String(line?.['error']), /^refused by Airlock: POLICY_DENIED \(403\); the full record could not be written \(ENOSPC\)/);
});

test('a journal whose torn line cannot be cut off is closed, and the next request opens a fresh session', async (t) => {
  const { store, disk, meta } = await setup(t);
  await store.begin(meta.id, { id: 'big', startedDateTime: T0, method: 'GET', url: URL_ });
  disk.free = 100;
  disk.failTruncate = true;
  await assert.rejects(async () => store.record(meta.id, exchange({ id: 'big', response: bigResponse() }), SECRETS), { code: 'RECORDING_INCOMPLETE' });
  disk.failTruncate = false;
  disk.free = Infinity;
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(store.isOpen(meta.id), false);
  const next = await store.ensure(identity());
  assert.notEqual(next.id, meta.id);
});

test('a session with a pending short line is not closed by the idle sweep', async (t) => {
  let clock = Date.parse(T0);
  const { store, disk, meta } = await setup(t, () => clock);
  await store.begin(meta.id, { id: 'big', startedDateTime: T0, method: 'GET', url: URL_ });
  disk.free = 0;
  await assert.rejects(async () => store.record(meta.id, exchange({ id: 'big', response: bigResponse() }), SECRETS), { code: 'RECORDING_INCOMPLETE' });
  // Idle twice over, not yet four times (stuck): the pending line counts as work in flight.
  clock += 2 * 60_000 + 1;
  assert.deepEqual(await store.closeIdle(), []);
  assert.ok(store.isOpen(meta.id));
});

test('pending lines: concurrent writers share one batch and its failure, and a later write takes them all', async () => {
  const { PendingLines } = await import('../../../appliance/recording/journal/index.js');
  const p = new PendingLines();
  p.add('a', '{"a":1}');
  p.add('b', '{"b":1}');
  const batches: string[][] = [];
  let fail = true;
  let release: () => void = () => undefined;
  const sink = {
    append: (lines: readonly string[]) =>
      new Promise<void>((resolve, reject) => {
        batches.push([...lines]);
        release = () => (fail ? reject(Object.assign(new Error('full'), { code: 'ENOSPC' })) : resolve());
      }),
  };
  const w1 = p.writeTo(sink);
  const w2 = p.writeTo(sink);
  await new Promise((r) => setImmediate(r));
  release();
  await assert.rejects(w1, { code: 'ENOSPC' });
  await assert.rejects(w2, { code: 'ENOSPC' });
  assert.equal(batches.length, 1, 'the second writer waited for the first batch');
  assert.equal(p.size, 2);
  fail = false;
  const w3 = p.writeTo(sink);
  await new Promise((r) => setImmediate(r));
  release();
  assert.equal(await w3, 2);
  assert.equal(p.size, 0);
  assert.deepEqual(batches, [
    ['{"a":1}', '{"b":1}'],
    ['{"a":1}', '{"b":1}'],
  ]);
  assert.equal(await p.writeTo(sink), 0);
});

test('with a space reserve, a short line that finds no room gets the reserve, so a crash loses nothing; new begins wait until the reserve is taken back', async (t) => {
  const { sessionsDir, store, disk, meta, journal, reserve } = await setup(t, undefined, true);
  await store.begin(meta.id, { id: 'big', startedDateTime: T0, method: 'GET', url: URL_ });
  assert.ok(reserve.held, 'the first begin took the reserve');
  disk.free = 0;
  await assert.rejects(async () => store.record(meta.id, exchange({ id: 'big', response: bigResponse() }), SECRETS), { code: 'RECORDING_INCOMPLETE' });
  assert.equal(reserve.held, false, 'given up for the short line');
  assert.deepEqual(
    (await journalLines(journal)).map((l) => `${String(l['type'])}:${String(l['id'])}`).slice(1),
    ['begin:big', 'exchange:big'],
    'on disk at once',
  );

  disk.free = 0;
  await assert.rejects(async () => store.begin(meta.id, { id: 'refused', startedDateTime: T0, method: 'GET', url: URL_ }), { code: 'RECORDING_FAILED' });
  assert.equal((await journalLines(journal)).length, 3, 'the refused begin left nothing');

  // What a restart's recovery would make of the journal right now (as if the process had died).
  const copy = join(sessionsDir, 'copy');
  await rm(copy, { recursive: true, force: true });
  const { mkdir, copyFile } = await import('node:fs/promises');
  await mkdir(copy);
  await copyFile(journal, join(copy, `${meta.id}.jsonl`));
  const recovered = await readHar((await finalizeJournal(copy, meta.id, 'recovered after an unclean stop')).harPath);
  assert.equal(recovered.log.entries.length, 1);
  assert.match(recovered.log.entries[0]?._error ?? '', /^forwarded, response not recorded: the upstream answered 200/);
  assert.equal(recovered.log._airlock.chain.journal?.intact, true);
  await rm(copy, { recursive: true, force: true });

  disk.free = Infinity;
  await store.begin(meta.id, { id: 'next', startedDateTime: T0, method: 'GET', url: URL_ });
  assert.ok(reserve.held, 'taken back before the begin');
  assert.equal(reserve.takes, 2);
});

test('the file reserve takes its bytes as a file, gives them up, and reuses a whole one left by an earlier run', async (t) => {
  const { FileReserve } = await import('../../../appliance/recording/session/index.js');
  const { stat, writeFile } = await import('node:fs/promises');
  const dir = await mkdtemp(join(tmpdir(), 'airlock-reserve-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, '.space-reserve');
  const r = new FileReserve(path, 8192);
  await r.take();
  assert.ok(r.held);
  assert.equal((await stat(path)).size, 8192);
  assert.equal(await r.release(), true);
  assert.equal(await r.release(), false);
  await assert.rejects(stat(path), { code: 'ENOENT' });
  await writeFile(path, Buffer.alloc(8192, 1));
  const again = new FileReserve(path, 8192);
  await again.take();
  assert.ok(again.held);
  assert.equal((await readFile(path))[0], 1, 'the earlier file is kept, not rewritten');
});
