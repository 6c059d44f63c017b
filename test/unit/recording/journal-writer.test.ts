// JournalWriter's two ways of writing (journal-writer.ts): `alone` appends are written at once on
// the calling thread, the others by group commit on the thread pool. Both must give the same
// chained bytes, keep call order when they mix, and cut a failed write back off the real file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ftruncateSync, writeSync } from 'node:fs';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chainLine, type JournalFile, JournalWriter, type OpenJournalFile } from '../../../appliance/recording/journal/index.js';
import { sha256Hex } from '../../../appliance/recording/integrity/index.js';

interface Calls {
  now: number;
  pooled: number;
  /** Bytes the file may still take; Infinity for no limit. */
  free: number;
}

/** A real file; counts which write path was used and fails like a full disk past `free`. */
function opener(calls: Calls): OpenJournalFile {
  return async (path) => {
    const fh = await open(path, 'ax', 0o600);
    const room = (len: number): number => {
      const n = Math.min(len, calls.free);
      if (n <= 0) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
      return n;
    };
    const file: JournalFile = {
      async write(buf, off, len) {
        calls.pooled++;
        const r = await fh.write(buf, off, room(len));
        calls.free -= r.bytesWritten;
        return r;
      },
      writeSync(buf, off, len) {
        calls.now++;
        const n = writeSync(fh.fd, buf, off, room(len));
        calls.free -= n;
        return n;
      },
      truncate: (len) => fh.truncate(len),
      truncateSync: (len) => {
        ftruncateSync(fh.fd, len);
      },
      sync: () => fh.sync(),
      close: () => fh.close(),
    };
    return file;
  };
}

async function setup(t: { after: (fn: () => Promise<void>) => void }) {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-jw-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const calls: Calls = { now: 0, pooled: 0, free: Infinity };
  let n = 0;
  const make = async (): Promise<{ w: JournalWriter; path: string }> => {
    const path = join(dir, `j${n++}.jsonl`);
    const w = await JournalWriter.create(path, '{"type":"session"}', opener(calls));
    calls.pooled = 0;
    return { w, path };
  };
  return { calls, make };
}

/** The file's lines, checked to be one unbroken chain from the first. */
async function chainOf(path: string): Promise<string[]> {
  const lines = (await readFile(path, 'utf8')).split('\n');
  assert.equal(lines.pop(), '', 'the file ends on a whole line');
  for (let i = 1; i < lines.length; i++) assert.equal(lines[i], chainLine(JSON.stringify({ n: i }), sha256Hex(lines[i - 1] ?? '')), `line ${i}`);
  return lines;
}

test('alone appends are written at once, group commits on the pool, and the bytes are the same', async (t) => {
  const { calls, make } = await setup(t);
  const a = await make();
  for (let i = 1; i <= 3; i++) await a.w.append(JSON.stringify({ n: i }), true);
  assert.deepEqual([calls.now, calls.pooled], [3, 0]);
  const b = await make();
  for (let i = 1; i <= 3; i++) await b.w.append(JSON.stringify({ n: i }));
  assert.deepEqual([calls.now, calls.pooled], [3, 3]);
  await Promise.all([a.w.close(), b.w.close()]);
  const [la, lb] = [await chainOf(a.path), await chainOf(b.path)];
  assert.deepEqual(la.slice(1), lb.slice(1), 'same lines after the same first line');
});

test('an alone append waits its turn behind a queued write, an fsync or the sidecar, and order is kept', async (t) => {
  const { calls, make } = await setup(t);
  const { w, path } = await make();
  const p1 = w.append(JSON.stringify({ n: 1 }));
  const p2 = w.append(JSON.stringify({ n: 2 }), true);
  const sync = w.syncIfDirty();
  const p3 = w.append(JSON.stringify({ n: 3 }), true);
  let sidecarRan = false;
  const sidecar = w.run(async () => {
    sidecarRan = true;
  });
  const p4 = w.append(JSON.stringify({ n: 4 }), true);
  await Promise.all([p1, p2, sync, p3, sidecar, p4]);
  assert.equal(sidecarRan, true);
  assert.equal(calls.now, 0, 'nothing was written past the queue');
  await w.append(JSON.stringify({ n: 5 }), true);
  assert.equal(calls.now, 1, 'with the queue empty, written at once');
  await w.close();
  assert.equal((await chainOf(path)).length, 6);
  await assert.rejects(w.append(JSON.stringify({ n: 6 }), true), /journal closed/);
});

for (const alone of [true, false]) {
  test(`a write that fails ${alone ? 'at once' : 'on the pool'} is cut back off, and the chain goes on from the last whole line`, async (t) => {
    const { calls, make } = await setup(t);
    const { w, path } = await make();
    await w.append(JSON.stringify({ n: 1 }), alone);
    calls.free = 10;
    await assert.rejects(w.append(JSON.stringify({ n: 2, pad: 'x'.repeat(200) }), alone), /no space left/);
    assert.equal(w.failure, null, 'the cut worked: the journal stays usable');
    calls.free = Infinity;
    await w.append(JSON.stringify({ n: 2 }), alone);
    await w.close();
    assert.equal((await chainOf(path)).length, 3);
  });
}
