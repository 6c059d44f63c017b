// Rewrites index.ndjson as one line per live session sorted by (openedAt, id) under a header
// (index-layout.ts), reconciled with the sidecars. The server runs it at start and whenever the
// tail has grown (compactIndexIfGrown), without holding up the appends that go on meanwhile: the
// fold and the rewrite run beside them, and only the last step (carry over the lines appended
// since the fold, rename) waits its turn among them.
import { open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { resolve } from 'node:path';
import { errCode, FILE_MODE, fsyncDir, writeFully } from '../../lib/file-io.js';
import { newestFirst } from './filter-sessions.js';
import { HEADER_BYTES, headerLine, readLayout } from './index-layout.js';
import { chunksForward, MAX_LINE, selectLines } from './index-lines.js';
import { readSummary, type SessionSummary } from '../journal/index.js';
import { foldIndex, IndexedSummary, indexLine, indexPath, serially, sidecarIds } from './session-index.js';

/** Compact when the tail is over this many bytes and over `TAIL_SHARE` of the base. */
const MIN_TAIL_BYTES = 4 * 1024 * 1024;
const TAIL_SHARE = 0.25;

const running = new Map<string, Promise<number>>();

/** Rewrites the index; returns the number of live sessions. One compaction per directory at a time. */
export function compactIndex(sessionsDir: string): Promise<number> {
  const key = resolve(sessionsDir);
  const busy = running.get(key);
  if (busy) return busy;
  const run = compact(sessionsDir).finally(() => running.delete(key));
  running.set(key, run);
  return run;
}

/** Compacts when the unsorted tail has outgrown the base; the number of sessions, or null if not needed. */
export async function compactIndexIfGrown(sessionsDir: string, minTailBytes = MIN_TAIL_BYTES): Promise<number | null> {
  let fh: FileHandle;
  try {
    fh = await open(indexPath(sessionsDir), 'r');
  } catch (err) {
    if (errCode(err) === 'ENOENT') return null;
    throw err;
  }
  let tail: number;
  let base: number;
  try {
    const layout = await readLayout(fh);
    tail = layout.size - layout.baseTo;
    base = layout.baseTo - layout.baseFrom;
  } finally {
    await fh.close();
  }
  if (tail <= Math.max(minTailBytes, base * TAIL_SHARE)) return null;
  return compactIndex(sessionsDir);
}

async function compact(sessionsDir: string): Promise<number> {
  const path = indexPath(sessionsDir);
  // 1. Fold what is there now, up to its last whole line; later appends are carried over in 3.
  const known = new Map<string, SessionSummary>();
  let ino: number | null = null;
  let cut = 0;
  try {
    const fh = await open(path, 'r');
    try {
      const st = await fh.stat();
      ino = st.ino;
      cut = await endOfLastLine(fh, st.size);
      for await (const chunk of chunksForward(fh, 0, cut)) foldIndex(selectLines(chunk, null), known);
    } finally {
      await fh.close();
    }
  } catch (err) {
    if (errCode(err) !== 'ENOENT') throw err;
  }
  // 2. Reconcile with the sidecars (a crash between sidecar and index write; open sessions move).
  const out: SessionSummary[] = [];
  for (const id of await sidecarIds(sessionsDir)) {
    const s = known.get(id);
    if (s && s.status === 'closed') {
      out.push(s);
      continue;
    }
    const fresh = await readSummary(sessionsDir, id);
    if (fresh) out.push(fresh);
  }
  out.sort((a, b) => newestFirst(b, a));
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, 'w', FILE_MODE);
  try {
    await writeFully(fh, `${' '.repeat(HEADER_BYTES - 1)}\n`);
    let sorted = 0;
    for (let i = 0; i < out.length; i += 1000) {
      const chunk = `${out
        .slice(i, i + 1000)
        .map((s) => (s instanceof IndexedSummary ? s.json : indexLine(s)))
        .join('\n')}\n`;
      const buf = Buffer.from(chunk, 'utf8');
      await writeFully(fh, buf);
      sorted += buf.length;
    }
    const header = Buffer.from(headerLine(sorted, out.length), 'utf8');
    await fh.write(header, 0, header.length, 0);
    // 3. Among the appends: carry over what was appended since the fold, then swap the files.
    const swapped = await serially(sessionsDir, async () => {
      const now = await stat(path).catch((err: unknown) => (errCode(err) === 'ENOENT' ? null : Promise.reject(err)));
      if (now && ino !== null && now.ino !== ino) return false; // someone else rewrote it meanwhile
      if (now) await carryOver(path, ino === null ? 0 : cut, fh);
      await fh.sync();
      await rename(tmp, path);
      return true;
    });
    if (!swapped) {
      await rm(tmp, { force: true });
      return out.length;
    }
  } finally {
    await fh.close();
  }
  await fsyncDir(sessionsDir);
  return out.length;
}

/** The offset just past the last newline before `size`: an append still being written is left out. */
async function endOfLastLine(fh: FileHandle, size: number): Promise<number> {
  const span = Math.min(size, MAX_LINE);
  const buf = Buffer.alloc(span);
  const { bytesRead } = await fh.read(buf, 0, span, size - span);
  const nl = buf.subarray(0, bytesRead).lastIndexOf(0x0a);
  return nl < 0 ? size - span : size - span + nl + 1;
}

async function carryOver(path: string, from: number, into: FileHandle): Promise<void> {
  const src = await open(path, 'r');
  try {
    const { size } = await src.stat();
    const buf = Buffer.alloc(64 * 1024);
    for (let at = from; at < size;) {
      const { bytesRead } = await src.read(buf, 0, Math.min(buf.length, size - at), at);
      if (bytesRead === 0) break;
      await writeFully(into, buf.subarray(0, bytesRead));
      at += bytesRead;
    }
  } finally {
    await src.close();
  }
}
