import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Adapter } from 'lowdb';
import { writeFileAtomic } from '../lib/file-io.js';
import type { VaultFile } from './types.js';
import { parseVault } from './parse-vault.js';
import { VaultError } from './vault-error.js';

/**
 * lowdb adapter for vault.json. lowdb's JSONFile (steno) creates the file with the umask's
 * mode; this one writes through lib/file-io's writeFileAtomic (a 0600 temp file, fsync, rename,
 * fsync of the directory), so the keys are never readable by others and a reader never sees half a file.
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
    // A sourced entry stores no key: its in-memory apiKey '' is not written.
    const out = { ...data, entries: data.entries.map((e) => (e.source ? Object.fromEntries(Object.entries(e).filter(([k]) => k !== 'apiKey')) : e)) };
    try {
      await writeFileAtomic(this.file, `${JSON.stringify(out, null, 2)}\n`, { sync: true });
    } catch (err) {
      throw ioError(`cannot write ${this.file}`, err);
    }
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

function ioError(what: string, err: unknown): VaultError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? 'unknown error';
  return new VaultError('VAULT_IO', `${what}: ${code}`);
}
