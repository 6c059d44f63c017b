import { join } from 'node:path';
import { Low } from 'lowdb';
import { AtomicFileAdapter, ensureStateDir } from './atomic-file-adapter.js';
import { fingerprint } from './fingerprint.js';
import { EMPTY_VAULT } from './parse-vault.js';
import { readSourceStatus } from './source-status.js';
import { VAULT_FILE, VAULT_LOCK, type KeySource, type PreviousKeys, type VaultEntry, type VaultFile, type VaultKeys, type VaultListing } from './types.js';
import { VaultError } from './vault-error.js';
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

  /** An entry whose keys a file or a credential process supplies at run time. */
  async putSource(name: string, source: KeySource): Promise<{ created: boolean }> {
    assertVaultName(name);
    return this.mutate((entries) => {
      const at = this.now().toISOString();
      const i = entries.findIndex((e) => e.name === name);
      const old = i === -1 ? undefined : entries[i];
      const entry: VaultEntry = { name, apiKey: '', source, createdAt: old?.createdAt ?? at, updatedAt: at };
      if (i === -1) entries.push(entry);
      else entries[i] = entry;
      return { result: { created: i === -1 }, changed: true };
    });
  }

  /**
   * New keys become current; the current ones move to `previous` until now + graceMs (Datadog
   * keeps accepting them meanwhile, until you revoke them there). Expired previous keys are dropped.
   */
  async rotate(name: string, keys: VaultKeys, graceMs: number): Promise<{ previous: number }> {
    assertVaultName(name);
    const apiKey = normalizeKey(keys.apiKey, 'the API key');
    const appKey = keys.appKey === undefined ? undefined : normalizeKey(keys.appKey, 'the application key');
    return this.mutate((entries) => {
      const i = entries.findIndex((e) => e.name === name);
      const old = entries[i];
      if (!old) throw new VaultError('VAULT_NOT_FOUND', `no vault entry named ${name}: store it first with \`airlock vault put\``);
      if (old.source) throw new VaultError('VAULT_KEY_INVALID', `${name} gets its keys from a ${old.source.type} source: rotate them there`);
      const now = this.now();
      const kept: PreviousKeys[] = (old.previous ?? []).filter((p) => Date.parse(p.until) > now.getTime());
      const until = new Date(now.getTime() + graceMs).toISOString();
      const moved: PreviousKeys = old.appKey === undefined ? { apiKey: old.apiKey, until } : { apiKey: old.apiKey, appKey: old.appKey, until };
      const previous = [moved, ...kept].slice(0, 16);
      entries[i] = {
        name,
        apiKey,
        ...(appKey === undefined ? (old.appKey === undefined ? {} : { appKey: old.appKey }) : { appKey }),
        previous,
        createdAt: old.createdAt,
        updatedAt: now.toISOString(),
      };
      return { result: { previous: previous.length }, changed: true };
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
    const status = await readSourceStatus(this.stateDir);
    return data.entries
      .map((e): VaultListing => {
        const s = e.source ? status.get(e.name) : undefined;
        const stored = !e.source;
        return {
          name: e.name,
          apiKeyFingerprint: stored ? fingerprint(e.apiKey) : (s?.apiKeyFingerprint ?? '-'),
          appKeyFingerprint: stored ? (e.appKey === undefined ? null : fingerprint(e.appKey)) : (s?.appKeyFingerprint ?? null),
          createdAt: e.createdAt,
          updatedAt: e.updatedAt,
          source: e.source?.type ?? 'stored',
          state: stored ? 'fresh' : (s?.state ?? 'missing'),
          previous: (e.previous ?? []).map((p) => ({ apiKeyFingerprint: fingerprint(p.apiKey), until: p.until })),
        };
      })
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
