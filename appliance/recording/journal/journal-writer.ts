// One open journal: an append-mode file whose writes, fsyncs and close run one at a time, in call
// order. A write that fails (a full disk) is cut back off the file, so the journal ends on its
// last whole line and stays usable: the store can write a short line about what was lost once
// there is room again. Only when that cut fails, or an fsync fails, is the journal unusable for
// good, and then every later write fails too, so a torn line is never followed by lines that a
// reader could mistake for a continuation.
// Lines are hash-chained: every appended line gets "prev", the SHA-256 of the line before it
// (see chain.ts), computed when its batch is written, so a batch that is cut off leaves no gap.
//
// Two ways a line is written, the same bytes either way:
//  - group commit (the default): lines appended while a write is in flight join one batch, written
//    with one write(2) on the thread pool; a busy proxy pays one round trip per batch.
//  - now (`alone`, when the caller knows no other exchange is in flight and nothing is queued
//    here): write(2) on the calling thread. A page-cache append of a few KiB takes microseconds;
//    the thread-pool round trip it replaces was most of the latency Airlock added per request at
//    concurrency 1 (twice: begin, record). Not used under load: there the batches are cheaper, and
//    a write that blocks would stall every request, not just this one.
// Durability is the same on both: it comes from the fsync, which stays periodic and asynchronous
// (syncIfDirty) and runs on close. The risk of writing on the event loop: a disk that blocks
// write(2) stalls the whole process. The journals live on the runner VM's local disk
// (/var/lib/airlock), where a page-cache append blocks only under dirty-page throttling, when the
// pool's write would block too and the request would wait for it anyway; and only a quiet proxy
// writes this way. A network or otherwise hanging file system for the sessions directory is not
// supported.
import { ftruncateSync, writeSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { sha256Hex } from '../integrity/index.js';
import { errCode, FILE_MODE, writeFully } from '../../lib/file-io.js';

interface Batch {
  readonly lines: string[];
  readonly done: Promise<void>;
}

/** The few file calls a journal makes (tests put a quota in front of a real file). */
export interface JournalFile {
  write(buffer: Buffer, offset: number, length: number): Promise<{ bytesWritten: number }>;
  truncate(length: number): Promise<void>;
  /** write(2) now, on this thread (see the top of this file); returns the bytes written. */
  writeSync(buffer: Buffer, offset: number, length: number): number;
  /** ftruncate(2) now: cuts a failed writeSync back off. */
  truncateSync(length: number): void;
  sync(): Promise<void>;
  close(): Promise<void>;
}
export type OpenJournalFile = (path: string) => Promise<JournalFile>;

const openForAppend: OpenJournalFile = async (path) => {
  const fh = await open(path, 'ax', FILE_MODE);
  // The handle's fd for the synchronous calls: the writer makes none once close() has begun.
  return {
    write: (b, off, len) => fh.write(b, off, len),
    truncate: (len) => fh.truncate(len),
    writeSync: (b, off, len) => writeSync(fh.fd, b, off, len),
    truncateSync: (len) => {
      ftruncateSync(fh.fd, len);
    },
    sync: () => fh.sync(),
    close: () => fh.close(),
  };
};

const DONE: Promise<void> = Promise.resolve();

export class JournalWriter {
  private tail: Promise<void> = Promise.resolve();
  /** Operations queued by run() (writes, fsyncs, close, the sidecar) not yet settled. */
  private queued = 0;
  private batch: Batch | null = null;
  private dirty = false;
  private failed: string | null = null;
  private closed = false;

  private constructor(
    private readonly fh: JournalFile,
    private lastHash: string,
    /** Bytes of whole lines in the file: where a failed write is cut back to. */
    private size: number,
  ) {}

  /** Creates the journal (never reuses a file) with its first line, durable before returning. */
  static async create(path: string, firstLine: string, openFile: OpenJournalFile = openForAppend): Promise<JournalWriter> {
    const fh = await openFile(path);
    const text = `${firstLine}\n`;
    try {
      await writeFully(fh, text);
      await fh.sync();
    } catch (err) {
      await fh.close().catch(() => undefined);
      await rm(path, { force: true }).catch(() => undefined);
      throw err;
    }
    return new JournalWriter(fh, sha256Hex(firstLine), Buffer.byteLength(text));
  }

  /** Why the journal cannot be written any more, or null. */
  get failure(): string | null {
    return this.failed;
  }

  /** Runs fn after every queued operation, before any later one (also for the session's sidecar). */
  run<T>(fn: () => Promise<T>): Promise<T> {
    this.queued++;
    const p = this.tail.then(fn);
    const settled = (): void => {
      this.queued--;
    };
    this.tail = p.then(settled, settled);
    return p;
  }

  private async guarded(what: string, fn: () => Promise<void>): Promise<void> {
    if (this.failed !== null) throw new Error(`journal unusable after an earlier failure: ${this.failed}`);
    if (this.closed) throw new Error('journal closed');
    try {
      await fn();
    } catch (err) {
      this.failed = `${what} failed: ${errCode(err)}`;
      throw err;
    }
  }

  /**
   * Each line is one JSON object; it is written with `"prev"` added as its last member. Lines
   * given in one call land in one write: all of them, or (after a failure) none; they are in the
   * file when the promise resolves.
   * Group commit: lines appended while an earlier write is still in flight join one batch that is
   * written with a single write, and each caller's promise settles when its batch is on disk. One
   * session's concurrent exchanges then cost one write per batch instead of one each, in order.
   * `alone`: the caller knows nothing else is in flight; when nothing is queued here either, the
   * lines are written now, on this thread (see the top of this file).
   */
  append(line: string | readonly string[], alone = false): Promise<void> {
    const given = typeof line === 'string' ? [line] : line;
    for (const l of given) if (!l.endsWith('}')) return Promise.reject(new Error('a journal line must be one JSON object'));
    if (alone && this.idle) {
      try {
        this.writeNow(given);
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
      return DONE;
    }
    const open = this.batch;
    if (open) {
      open.lines.push(...given);
      return open.done;
    }
    const lines = [...given];
    const batch: Batch = {
      lines,
      done: this.run(() => {
        // From here on, later appends start the next batch.
        if (this.batch === batch) this.batch = null;
        return this.writeBatch(lines);
      }),
    };
    this.batch = batch;
    return batch.done;
  }

  /** Nothing queued here: a line may be written now without overtaking an earlier one. */
  private get idle(): boolean {
    return this.queued === 0 && this.batch === null;
  }

  /**
   * append(line, true) for a caller that goes on in the same turn: true when the line is in the
   * file now; false (nothing done) when earlier writes are queued, so it must be appended in turn.
   * Throws what the write threw (the file is cut back as append's would be).
   */
  appendNow(line: string): boolean {
    if (!line.endsWith('}')) throw new Error('a journal line must be one JSON object');
    if (!this.idle) return false;
    this.writeNow([line]);
    return true;
  }

  /** The batch's bytes, each line chained to the one before, and the hash of its last line. */
  private chained(lines: readonly string[]): { readonly data: Buffer; readonly hash: string } {
    if (this.failed !== null) throw new Error(`journal unusable after an earlier failure: ${this.failed}`);
    if (this.closed) throw new Error('journal closed');
    let hash = this.lastHash;
    let text = '';
    for (const l of lines) {
      const c = chainLine(l, hash);
      hash = sha256Hex(c);
      text += `${c}\n`;
    }
    return { data: Buffer.from(text, 'utf8'), hash };
  }

  private writeNow(lines: readonly string[]): void {
    if (lines.length === 0) return;
    const { data, hash } = this.chained(lines);
    try {
      let off = 0;
      while (off < data.length) {
        const n = this.fh.writeSync(data, off, data.length - off);
        if (n <= 0) throw new Error('write made no progress');
        off += n;
      }
    } catch (err) {
      this.cutBack(err, () => {
        this.fh.truncateSync(this.size);
      });
      throw err;
    }
    this.wrote(data.length, hash);
  }

  private async writeBatch(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return;
    const { data, hash } = this.chained(lines);
    try {
      await writeFully(this.fh, data);
    } catch (err) {
      let cutErr: unknown = null;
      await this.fh.truncate(this.size).catch((e: unknown) => {
        cutErr = e ?? new Error('truncate failed');
      });
      this.cutBack(err, () => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error -- the truncate's own error, passed on
        if (cutErr !== null) throw cutErr;
      });
      throw err;
    }
    this.wrote(data.length, hash);
  }

  /**
   * After a failed write, part of the batch may be in the file: `cut` takes it off, so the file
   * ends on a whole line and the chain goes on from the last line that is really there (lastHash
   * is not moved). A cut that fails leaves the journal unusable.
   */
  private cutBack(err: unknown, cut: () => void): void {
    try {
      cut();
    } catch (cutErr) {
      this.failed = `write failed: ${errCode(err)}, and cutting the torn line off failed: ${errCode(cutErr)}`;
    }
  }

  private wrote(bytes: number, hash: string): void {
    this.lastHash = hash;
    this.size += bytes;
    this.dirty = true;
  }

  syncIfDirty(): Promise<void> {
    return this.run(async () => {
      if (!this.dirty || this.closed || this.failed !== null) return;
      await this.guarded('fsync', async () => {
        this.dirty = false;
        await this.fh.sync();
      });
    });
  }

  /** Waits for every queued write, fsyncs, and closes the file. */
  close(): Promise<void> {
    return this.run(async () => {
      if (this.closed) return;
      try {
        if (this.dirty && this.failed === null) await this.fh.sync();
      } finally {
        this.closed = true;
        await this.fh.close();
      }
    });
  }
}

/** Adds "prev" as the object's last member, so line prefixes (`{"type":"exchange","id":...`) stay as they were. */
export function chainLine(line: string, prev: string): string {
  if (!line.endsWith('}')) throw new Error('a journal line must be one JSON object');
  return `${line.slice(0, -1)}${line.length > 2 ? ',' : ''}"prev":"${prev}"}`;
}
