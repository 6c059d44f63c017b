// One open journal: an append-mode FileHandle whose writes, fsyncs and close run one at a time,
// in call order. After any failure every later write fails too, so a torn line is never
// followed by lines that a reader could mistake for a continuation.
// Lines are hash-chained: every appended line gets "prev", the SHA-256 of the line before it
// (see chain.ts), computed in call order, which is write order.
import { open, rm, type FileHandle } from 'node:fs/promises';
import { sha256Hex } from './chain.js';
import { errCode, FILE_MODE, writeFully } from './file-io.js';

interface Batch {
  readonly lines: string[];
  readonly done: Promise<void>;
}

export class JournalWriter {
  private tail: Promise<void> = Promise.resolve();
  private batch: Batch | null = null;
  private dirty = false;
  private failed: string | null = null;
  private closed = false;

  private constructor(
    private readonly fh: FileHandle,
    private lastHash: string,
  ) {}

  /** Creates the journal (never reuses a file) with its first line, durable before returning. */
  static async create(path: string, firstLine: string): Promise<JournalWriter> {
    const fh = await open(path, 'ax', FILE_MODE);
    try {
      await writeFully(fh, `${firstLine}\n`);
      await fh.sync();
    } catch (err) {
      await fh.close().catch(() => undefined);
      await rm(path, { force: true }).catch(() => undefined);
      throw err;
    }
    return new JournalWriter(fh, sha256Hex(firstLine));
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
   * `line` is one JSON object; it is written with `"prev"` added as its last member.
   * Group commit: lines appended while an earlier write is still in flight join one batch that is
   * written with a single write, and each caller's promise settles when its batch is on disk. One
   * session's concurrent exchanges then cost one write per batch instead of one each, in order.
   */
  append(line: string): Promise<void> {
    const chained = chainLine(line, this.lastHash);
    this.lastHash = sha256Hex(chained);
    const open = this.batch;
    if (open) {
      open.lines.push(chained);
      return open.done;
    }
    const lines = [chained];
    const batch: Batch = {
      lines,
      done: this.run(() => {
        // From here on, later appends start the next batch.
        if (this.batch === batch) this.batch = null;
        return this.guarded('write', async () => {
          await writeFully(this.fh, `${lines.join('\n')}\n`);
          this.dirty = true;
        });
      }),
    };
    this.batch = batch;
    return batch.done;
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
