// A little disk space kept aside in the sessions dir. When the disk fills after a request went
// upstream, the space is given up so that the short line saying "forwarded, response not
// recorded" still reaches the journal (and so survives a stop or a crash); new exchanges then
// wait until the space can be taken back, which is the test that recording works again.
import { randomBytes } from 'node:crypto';
import { open, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { FILE_MODE, writeFully } from '../../lib/file-io.js';

const RESERVE_FILE = '.space-reserve';
/** Room for a few dozen short lines (no bodies, headers up to the parser's limit). */
const DEFAULT_RESERVE_BYTES = 256 * 1024;

export interface SpaceReserve {
  readonly held: boolean;
  /** Takes the space (a no-op when held); throws when the disk does not have it. */
  take(): Promise<void>;
  /** Gives the space up; false when it was not held. */
  release(): Promise<boolean>;
}

/** The reserve as a file of random bytes (random, so that a compressing file system cannot shrink it). */
export class FileReserve implements SpaceReserve {
  private isHeld = false;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly path: string,
    private readonly bytes: number = DEFAULT_RESERVE_BYTES,
  ) {}

  get held(): boolean {
    return this.isHeld;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.queue.then(fn);
    this.queue = p.catch(() => undefined);
    return p;
  }

  take(): Promise<void> {
    return this.serial(async () => {
      if (this.isHeld) return;
      // Left by an earlier run: it is already the space.
      if (
        (await stat(this.path).then(
          (s) => s.size,
          () => -1,
        )) === this.bytes
      ) {
        this.isHeld = true;
        return;
      }
      const fh = await open(this.path, 'w', FILE_MODE);
      let ok = false;
      try {
        await writeFully(fh, randomBytes(this.bytes));
        await fh.sync();
        ok = true;
      } finally {
        await fh.close().catch(() => undefined);
        if (!ok) await rm(this.path, { force: true }).catch(() => undefined);
      }
      this.isHeld = true;
    });
  }

  release(): Promise<boolean> {
    return this.serial(async () => {
      if (!this.isHeld) return false;
      this.isHeld = false;
      await rm(this.path, { force: true });
      return true;
    });
  }
}

export function sessionsReserve(sessionsDir: string, bytes = DEFAULT_RESERVE_BYTES): FileReserve {
  return new FileReserve(join(sessionsDir, RESERVE_FILE), bytes);
}
