import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Adapter } from 'lowdb';
import type { VaultFile } from './types.js';
import { parseVault } from './parse-vault.js';
import { VaultError } from './vault-error.js';

/**
 * lowdb adapter for vault.json. lowdb's JSONFile (steno) creates the file with the umask's
 * mode; this one writes `<file>.tmp-<rand>` opened 0600, fsyncs, and renames over the target,
 * so the keys are never readable by others and a reader never sees half a file.
 */
export class AtomicFileAdapter implements Adapter<VaultFile> {
  constructor(private readonly file: string) {}

  async read(): Promise<VaultFile | null> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw ioError(`cannot read ${this.file}`, err);
    }
    return parseVault(text, this.file);
  }

  async write(data: VaultFile): Promise<void> {
    await ensureStateDir(dirname(this.file));
    const tmp = `${this.file}.tmp-${randomBytes(6).toString('hex')}`;
    try {
      const fh = await open(tmp, 'wx', 0o600);
      try {
        // The umask only narrows open()'s mode, but be exact whatever it is.
        await fh.chmod(0o600);
        // A sourced entry stores no key: its in-memory apiKey '' is not written.
        const out = { ...data, entries: data.entries.map((e) => (e.source ? Object.fromEntries(Object.entries(e).filter(([k]) => k !== 'apiKey')) : e)) };
        await fh.writeFile(`${JSON.stringify(out, null, 2)}\n`, 'utf8');
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, this.file);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw ioError(`cannot write ${this.file}`, err);
    }
    await syncDir(dirname(this.file));
  }
}

/** Creates the state directory 0700 if missing; an existing one is left as it is. */
export async function ensureStateDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw ioError(`cannot create the state directory ${dir}`, err);
  }
}

// Makes the rename durable across a crash; not every filesystem allows fsync on a directory.
async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    /* best effort */
  }
}

function ioError(what: string, err: unknown): VaultError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? 'unknown error';
  return new VaultError('VAULT_IO', `${what}: ${code}`);
}
