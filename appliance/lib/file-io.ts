import { randomBytes } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

export const FILE_MODE = 0o600;
export const DIR_MODE = 0o700;

/** write(2) may write less than asked (a full disk, a signal): loop until all of it is out. */
export async function writeFully(fh: { write(b: Buffer, off: number, len: number): Promise<{ bytesWritten: number }> }, data: string | Buffer): Promise<void> {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off);
    if (bytesWritten <= 0) throw new Error('write made no progress');
    off += bytesWritten;
  }
}

/** A rename is durable only once the directory entry is: fsync the directory too. */
export async function fsyncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    // Some file systems refuse fsync on a directory; the rename itself already happened.
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/**
 * Write a small file atomically, 0600: readers see the old content or the new, never a mix. With
 * `sync`, the data and then the rename are fsynced. Kept hand-written rather than write-file-atomic:
 * that one issues a single write(2) and ignores a short count, so a filling disk would rename a
 * truncated vault or login state over the good one; and it never fsyncs the directory.
 */
export async function writeFileAtomic(path: string, data: string, opts: { readonly sync: boolean }): Promise<void> {
  // A name of its own per write: two writers of one file never share (or truncate) a temp file.
  const tmp = `${path}.tmp-${randomBytes(6).toString('hex')}`;
  try {
    const fh = await open(tmp, 'wx', FILE_MODE);
    try {
      // open()'s mode is only narrowed by the umask: be exact whatever it is.
      await fh.chmod(FILE_MODE);
      await writeFully(fh, data);
      if (opts.sync) await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  if (opts.sync) await fsyncDir(dirname(path));
}

export function errCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : err instanceof Error ? err.name : 'unknown error';
}
