import { open, rename, type FileHandle } from 'node:fs/promises';
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

/** Write a small file atomically: readers see the old content or the new, never a mix. */
export async function writeFileAtomic(path: string, data: string, opts: { readonly sync: boolean }): Promise<void> {
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, 'w', FILE_MODE);
  try {
    await writeFully(fh, data);
    if (opts.sync) await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  if (opts.sync) await fsyncDir(dirname(path));
}

export function errCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : err instanceof Error ? err.name : 'unknown error';
}
