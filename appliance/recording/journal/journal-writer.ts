// One open journal: an append-mode FileHandle whose writes, fsyncs and close run one at a time,
// in call order. A write that fails (a full disk) is cut back off the file, so the journal ends
// on its last whole line and stays usable: the store can write a short line about what was
// lost once there is room again. Only when that cut fails, or an fsync fails, is the journal
// unusable for good, and then every later write fails too, so a torn line is never followed by
// lines that a reader could mistake for a continuation.
// Lines are hash-chained: every appended line gets "prev", the SHA-256 of the line before it
// (see chain.ts), computed when its batch is written, so a batch that is cut off leaves no gap.
import { open, rm } from 'node:fs/promises';
import { sha256Hex } from '../integrity/index.js';
import { errCode, FILE_MODE, writeFully } from '../../lib/file-io.js';

interface Batch {
  readonly lines: string[];
  readonly done: Promise<void>;
}

/** The few FileHandle calls a journal makes (tests put a quota in front of a real one). */
export interface JournalFile {
  write(buffer: Buffer, offset: number, length: number): Promise<{ bytesWritten: number }>;
  truncate(length: number): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
}
export type OpenJournalFile = (path: string) => Promise<JournalFile>;

const openForAppend: OpenJournalFile = (path) => open(path, 'ax', FILE_MODE);

export class JournalWriter {
  private tail: Promise<void> = Promise.resolve();
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
    const p = this.tail.then(fn);
    this.tail = p.then(
      () => undefined,
      () => undefined,
    );
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
   * given in one call land in one write: all of them, or (after a failure) none.
   * Group commit: lines appended while an earlier write is still in flight join one batch that is
   * written with a single write, and each caller's promise settles when its batch is on disk. One
   * session's concurrent exchanges then cost one write per batch instead of one each, in order.
   */
  append(line: string | readonly string[]): Promise<void> {
    const given = typeof line === 'string' ? [line] : line;
    for (const l of given) if (!l.endsWith('}')) return Promise.reject(new Error('a journal line must be one JSON object'));
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

  private async writeBatch(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return;
    if (this.failed !== null) throw new Error(`journal unusable after an earlier failure: ${this.failed}`);
    if (this.closed) throw new Error('journal closed');
    const hashBefore = this.lastHash;
    let hash = hashBefore;
    const chained = lines.map((l) => {
      const c = chainLine(l, hash);
      hash = sha256Hex(c);
      return c;
    });
    const data = Buffer.from(`${chained.join('\n')}\n`, 'utf8');
    try {
      await writeFully(this.fh, data);
    } catch (err) {
      // Part of the batch may be in the file: cut it off, so the file ends on a whole line and
      // the chain goes on from the last line that is really there.
      try {
        await this.fh.truncate(this.size);
      } catch (cutErr) {
        this.failed = `write failed: ${errCode(err)}, and cutting the torn line off failed: ${errCode(cutErr)}`;
      }
      this.lastHash = hashBefore;
      throw err;
    }
    this.lastHash = hash;
    this.size += data.length;
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

  /** Waits for every queued write, fsyncs, and closes the handle. */
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
