import { join } from 'node:path';
import { Low } from 'lowdb';
import { AtomicFileAdapter, ensureStateDir } from './atomic-file-adapter.js';
import { fingerprint } from './fingerprint.js';
import { EMPTY_VAULT } from './parse-vault.js';
import { VAULT_FILE, VAULT_LOCK, type VaultEntry, type VaultFile, type VaultKeys, type VaultListing } from './types.js';
import { assertVaultName, normalizeKey } from './validate.js';
import { withVaultLock, type LockOptions } from './with-vault-lock.js';

export interface VaultStoreOptions {
  readonly now?: () => Date;
  readonly lock?: LockOptions;
}

/** The CLI's view of `<state>/vault.json`: every change is a locked read-modify-write. */
export class VaultStore {
  private readonly file: string;
  private readonly lockFile: string;
  private readonly now: () => Date;
  private readonly lockOpts: LockOptions;

  constructor(
    private readonly stateDir: string,
    opts: VaultStoreOptions = {},
  ) {
    this.file = join(stateDir, VAULT_FILE);
    this.lockFile = join(stateDir, VAULT_LOCK);
    this.now = opts.now ?? (() => new Date());
    this.lockOpts = opts.lock ?? {};
  }

  async put(name: string, keys: VaultKeys): Promise<{ created: boolean }> {
    assertVaultName(name);
    const apiKey = normalizeKey(keys.apiKey, 'the API key');
    const appKey = keys.appKey === undefined ? undefined : normalizeKey(keys.appKey, 'the application key');
    return this.mutate((entries) => {
      const at = this.now().toISOString();
      const i = entries.findIndex((e) => e.name === name);
      const old = i === -1 ? undefined : entries[i];
      const entry: VaultEntry = {
        name,
        apiKey,
        ...(appKey === undefined ? {} : { appKey }),
        createdAt: old?.createdAt ?? at,
        updatedAt: at,
      };
      if (i === -1) entries.push(entry);
      else entries[i] = entry;
      return { result: { created: i === -1 }, changed: true };
    });
  }

  async remove(name: string): Promise<boolean> {
    assertVaultName(name);
    return this.mutate((entries) => {
      const i = entries.findIndex((e) => e.name === name);
      if (i !== -1) entries.splice(i, 1);
      return { result: i !== -1, changed: i !== -1 };
    });
  }

  async list(): Promise<VaultListing[]> {
    const data = await this.read();
    return data.entries
      .map((e) => ({
        name: e.name,
        apiKeyFingerprint: fingerprint(e.apiKey),
        appKeyFingerprint: e.appKey === undefined ? null : fingerprint(e.appKey),
        createdAt: e.createdAt,
        updatedAt: e.updatedAt,
      }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async get(name: string): Promise<VaultEntry | undefined> {
    const data = await this.read();
    return data.entries.find((e) => e.name === name);
  }

  // Reads need no lock: the file is only ever replaced by rename, so a read sees a whole version.
  private async read(): Promise<VaultFile> {
    const db = new Low<VaultFile>(new AtomicFileAdapter(this.file), EMPTY_VAULT);
    await db.read();
    return db.data;
  }

  private async mutate<T>(fn: (entries: VaultEntry[]) => { result: T; changed: boolean }): Promise<T> {
    await ensureStateDir(this.stateDir);
    return withVaultLock(
      this.lockFile,
      async () => {
        const db = new Low<VaultFile>(new AtomicFileAdapter(this.file), EMPTY_VAULT);
        await db.read();
        const entries = [...db.data.entries];
        const { result, changed } = fn(entries);
        if (changed) {
          db.data = { version: 1, entries };
          await db.write();
        }
        return result;
      },
      this.lockOpts,
    );
  }
}
