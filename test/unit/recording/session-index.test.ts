// The session index on disk: chunked line reading both ways, compaction into a sorted base with a
// tail, and the newest-N listing that reads only as much of the base as it needs, checked against
// the full read it replaces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  appendIndex,
  chunksBackward,
  chunksForward,
  compactIndex,
  compactIndexIfGrown,
  HEADER_BYTES,
  indexPath,
  listNewest,
  listSessions,
  MAX_LINE,
  readIndex,
  readLayout,
  selectLines,
  type SessionFilter,
} from '../../../appliance/recording/index/index.js';
import { type SessionSummary, writeSummary } from '../../../appliance/recording/journal/index.js';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-index-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A small deterministic PRNG, so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

test('chunks read forwards and backwards give back every line at any chunk size, skipping an over-long one', async (t) => {
  const dir = tempDir(t);
  const rand = rng(7);
  const lines: string[] = [];
  for (let i = 0; i < 200; i++) lines.push(`{"n":${i},"s":"${'é✓x'.repeat(Math.floor(rand() * 40))}"}`);
  const long = `{"long":"${'y'.repeat(MAX_LINE + 10)}"}`;
  const file = join(dir, 'lines');
  writeFileSync(file, `${lines.slice(0, 100).join('\n')}\n${long}\n${lines.slice(100).join('\n')}`); // no final newline
  const fh = await open(file, 'r');
  t.after(() => fh.close());
  const { size } = await fh.stat();
  for (const chunk of [1, 7, 64, 1000, MAX_LINE + 3, 1 << 20]) {
    const fwd: string[] = [];
    for await (const c of chunksForward(fh, 0, size, chunk)) fwd.push(...selectLines(c, null));
    assert.deepEqual(fwd, lines, `forwards, chunk ${chunk}`);
    const back: string[] = [];
    for await (const c of chunksBackward(fh, 0, size, chunk)) back.push(...selectLines(c, null).reverse());
    assert.deepEqual(back, [...lines].reverse(), `backwards, chunk ${chunk}`);
  }
});

const T0 = Date.parse('2026-11-01T00:00:00Z');

function summary(i: number, openedMs: number, over: Partial<SessionSummary> = {}): SessionSummary {
  const opened = new Date(openedMs).toISOString();
  return {
    id: `${opened.replace(/[-:.]/g, '').slice(0, 15)}Z-${i.toString(16).padStart(8, '0')}`,
    key: `k${i}`,
    issuer: i % 4 === 0 ? 'gitlab' : 'github',
    iss: 'https://issuer.test',
    sub: `repo:acme/app${i % 5}`,
    grant: i % 3 === 0 ? 'dashboards' : 'metrics',
    credential: 'dd',
    claims: { repository_id: String(100 + (i % 7)), run_id: i, note: 'ünïcode ✓' },
    openedAt: opened,
    status: 'open',
    closedAt: null,
    closeReason: null,
    entryCount: 0,
    lastActivityAt: opened,
    ...over,
  };
}

/** What the server does for one event: the sidecar first, then the index line. */
async function record(dir: string, s: SessionSummary): Promise<void> {
  await writeSummary(dir, s, { sync: false });
  await appendIndex(dir, s);
}

async function drop(dir: string, s: SessionSummary): Promise<void> {
  await rm(join(dir, `${s.id}.meta.json`), { force: true });
  await appendIndex(dir, { id: s.id, dropped: true });
}

/** Random sessions: opened (some at the same instant), most closed, some shipped, some pruned. */
async function history(dir: string, rand: () => number, from: number, count: number): Promise<void> {
  for (let i = from; i < from + count; i++) {
    const opened = summary(i, T0 + Math.floor(rand() * 50) * 60_000); // ties on purpose
    await record(dir, opened);
    const r = rand();
    if (r < 0.15) continue; // left open
    const closed = { ...opened, status: 'closed' as const, closedAt: opened.openedAt, closeReason: 'idle', entryCount: 1 + (i % 9) };
    await record(dir, closed);
    if (r < 0.5) await record(dir, { ...closed, shippedAt: closed.openedAt });
    if (r > 0.9) await drop(dir, closed);
  }
}

const ids = (l: readonly SessionSummary[]) => l.map((s) => `${s.id}:${s.status}:${s.entryCount}`);

async function assertNewestMatchesFull(dir: string, label: string): Promise<void> {
  const filters: SessionFilter[] = [
    {},
    { claims: [['repository_id', '103']] },
    { grant: 'dashboards', issuer: 'github' },
    { sub: 'repo:acme/app2', status: 'closed' },
    { status: 'open' },
    { since: T0 + 20 * 60_000 },
    { since: T0 + 10 * 60_000, until: T0 + 30 * 60_000, claims: [['run_id', '17']] },
  ];
  for (const f of filters) {
    const full = await listSessions(dir, f);
    for (const limit of [1, 5, 40, 1000]) {
      const r = await listNewest(dir, f, limit);
      assert.deepEqual(ids(r.sessions), ids(full.slice(0, limit)), `${label}: ${JSON.stringify(f)} limit ${limit}`);
      if (r.total !== null) assert.equal(r.total, full.length, `${label}: total for ${JSON.stringify(f)}`);
      else assert.ok(full.length >= limit, 'the count is left out only when the limit was reached');
    }
  }
}

test('the newest N from a compacted base plus a tail are exactly the first N of the full listing, for every filter', async (t) => {
  const dir = tempDir(t);
  const rand = rng(42);
  await history(dir, rand, 0, 150);
  await assertNewestMatchesFull(dir, 'never compacted');
  assert.equal(await compactIndex(dir), (await listSessions(dir)).length);
  const fh = await open(indexPath(dir), 'r');
  const layout = await readLayout(fh);
  await fh.close();
  assert.equal(layout.baseFrom, HEADER_BYTES, 'a compacted index has a header');
  assert.equal(layout.baseTo, layout.size, 'and nothing after its base yet');
  await assertNewestMatchesFull(dir, 'compacted');
  // Sessions in the base closed, shipped and pruned after compaction, and new ones appended.
  const before = await listSessions(dir);
  for (const s of before.filter((x) => x.status === 'open').slice(0, 5))
    await record(dir, { ...s, status: 'closed', closedAt: s.openedAt, closeReason: 'idle', entryCount: 3 });
  for (const s of before.filter((x) => x.status === 'closed').slice(0, 10)) await drop(dir, s);
  await history(dir, rand, 150, 100);
  await assertNewestMatchesFull(dir, 'compacted, then a tail');
});

test('compaction keeps every line appended while it runs, and a second one changes nothing', async (t) => {
  const dir = tempDir(t);
  await history(dir, rng(3), 0, 400);
  // Sessions whose sidecars say open; while compaction runs their closed lines keep arriving,
  // each with a higher entry count. The index must end with the last one of each.
  const pool: SessionSummary[] = [];
  for (let i = 1000; i < 1100; i++) {
    const s = summary(i, T0 + i * 1000);
    await writeSummary(dir, s, { sync: false });
    pool.push(s);
  }
  const last = new Map<string, number>();
  let compacting = true;
  const writer = (async () => {
    for (let n = 1; compacting || n <= 200; n++) {
      const s = pool[n % pool.length]!;
      await appendIndex(dir, { ...s, status: 'closed', closedAt: s.openedAt, closeReason: 'idle', entryCount: n });
      last.set(s.id, n);
    }
  })();
  const compacted = compactIndex(dir).finally(() => {
    compacting = false;
  });
  await Promise.all([compacted, writer]);
  const index = (await readIndex(dir))!;
  for (const [id, n] of last) assert.equal(index.get(id)?.entryCount, n, `${id}: its last line, appended during compaction, survived`);
  const listing = ids(await listSessions(dir));
  await compactIndex(dir);
  assert.deepEqual(ids(await listSessions(dir)), listing);
  assert.equal(readFileSync(indexPath(dir), 'utf8').split('\n').filter(Boolean).length, listing.length + 1, 'one line per session and the header');
});

test('an index whose header is damaged or whose base is cut short is read whole, with the same answer', async (t) => {
  const dir = tempDir(t);
  await history(dir, rng(9), 0, 80);
  await compactIndex(dir);
  await history(dir, rng(10), 80, 20);
  const want = ids((await listNewest(dir, {}, 10)).sessions);
  const fd = openSync(indexPath(dir), 'r+');
  writeSync(fd, '{"airlockIndex":1,"sessions":80,"sortedBytes":99999999999}', 0);
  closeSync(fd);
  const r = await listNewest(dir, {}, 10);
  assert.deepEqual(ids(r.sessions), want);
  assert.notEqual(r.total, null, 'read whole, so counted');
  writeFileSync(indexPath(dir), 'garbage\n{"not":"json"\n', { flag: 'a' });
  assert.deepEqual(ids((await listNewest(dir, {}, 10)).sessions), want, 'garbage lines in the tail are skipped');
});

test('a running server compacts only once the tail has outgrown the base', async (t) => {
  const dir = tempDir(t);
  await history(dir, rng(11), 0, 50);
  assert.equal(await compactIndexIfGrown(dir, 1 << 20), null, 'a small tail is left alone');
  assert.equal(typeof (await compactIndexIfGrown(dir, 0)), 'number', 'a never-compacted index is all tail');
  assert.equal(await compactIndexIfGrown(dir, 0), null, 'an empty tail is left alone');
  await history(dir, rng(12), 50, 3);
  assert.equal(await compactIndexIfGrown(dir, 0), null, 'a tail under a quarter of the base is left alone');
  await history(dir, rng(13), 53, 40);
  assert.equal(typeof (await compactIndexIfGrown(dir, 0)), 'number');
});
