import { open } from 'node:fs/promises';
import { KeySources } from './key-sources.js';
import { writeSourceStatus } from './source-status.js';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import { parseVault } from './parse-vault.js';
import { VAULT_FILE, type VaultEntry } from './types.js';
import { VaultError, isVaultError } from './vault-error.js';

/** The clock the poll runs on. */
export interface PollTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Node's timers, unref'd: a pending poll never keeps the process alive. */
const NODE_TIMERS: PollTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface VaultReaderOptions {
  readonly log: Logger;
  /** How often to stat vault.json; default 1000 ms, so a change is live within 2 s. */
  readonly pollMs?: number;
  /** Default: Node's timers. Tests pass a clock they move by hand (test/fixtures/manual-timers.ts). */
  readonly timers?: PollTimers;
}

/**
 * The running proxy's in-memory copy of vault.json, reloaded when the file changes.
 * Polls stat (ino+size+mtime) rather than fs.watch, which loses track of a file replaced by
 * rename. Lookups are synchronous and see one whole version, so in-flight requests never fail
 * because of a reload.
 */
export class VaultReader {
  private readonly file: string;
  private readonly log: Logger;
  private readonly pollMs: number;
  private entries: ReadonlyMap<string, VaultEntry> = new Map();
  private values: { readonly from: ReadonlyMap<string, VaultEntry>; readonly version: number; readonly list: readonly string[] } | undefined;
  private readonly sources: KeySources;
  private sourceVersion = 0;
  private readonly stateDir: string;
  private signature: string | null = null;
  private readonly timers: PollTimers;
  private timer: unknown;
  private stopped = true;
  private warnedMode = false;

  constructor(stateDir: string, opts: VaultReaderOptions) {
    this.file = join(stateDir, VAULT_FILE);
    this.log = opts.log;
    this.pollMs = opts.pollMs ?? 1000;
    this.timers = opts.timers ?? NODE_TIMERS;
    this.stateDir = stateDir;
    this.sources = new KeySources({
      log: opts.log,
      pollMs: this.pollMs,
      onChange: () => {
        this.sourceVersion++;
        writeSourceStatus(this.stateDir, this.sources.status()).catch((err: unknown) =>
          this.log.warn({ code: (err as NodeJS.ErrnoException).code }, 'cannot write vault-status.json'),
        );
      },
    });
  }

  /** Loads the vault once; throws VAULT_CORRUPT or VAULT_IO so a broken vault stops startup. */
  async start(): Promise<void> {
    await this.reload(true);
    this.stopped = false;
    this.schedule();
  }

  /** The entry with its keys; one with a source only while the source holds an unexpired value. */
  get(name: string): VaultEntry | undefined {
    const e = this.entries.get(name);
    if (!e?.source) return e;
    const k = this.sources.current(name);
    if (!k) return undefined;
    const { appKey: _stored, ...rest } = e;
    return { ...rest, apiKey: k.apiKey, ...(k.appKey ? { appKey: k.appKey } : {}) };
  }

  /** Names and times only, never a key (metrics: how stale each entry is). */
  times(): { readonly name: string; readonly updatedAt: string }[] {
    return [...this.entries.values()].map((e) => ({ name: e.name, updatedAt: e.updatedAt }));
  }

  stop(): void {
    this.sources.stop();
    this.stopped = true;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * Every key value, for masking. The same array until the vault changes, so that what is
   * compiled from it per response can be reused (masking/mask-text.ts).
   */
  allSecretValues(): readonly string[] {
    if (this.values?.from !== this.entries || this.values.version !== this.sourceVersion) {
      const list: string[] = [];
      for (const e of this.entries.values()) {
        if (e.apiKey !== '') list.push(e.apiKey);
        if (e.appKey !== undefined) list.push(e.appKey);
        // Rotated-out keys stay masked through their grace period and beyond (the file keeps them until pruned).
        for (const p of e.previous ?? []) list.push(p.apiKey, ...(p.appKey ? [p.appKey] : []));
      }
      list.push(...this.sources.values());
      this.values = { from: this.entries, version: this.sourceVersion, list: Object.freeze([...new Set(list)]) };
    }
    return this.values.list;
  }

  // A chained timeout rather than setInterval, so a slow read never overlaps the next poll.
  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      this.reload(false)
        .catch((err: unknown) => this.warn(err))
        .finally(() => this.schedule());
    }, this.pollMs);
  }

  private async reload(initial: boolean): Promise<void> {
    let fh;
    try {
      fh = await open(this.file, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError(this.file, err);
      if (this.signature !== 'missing') {
        if (!initial) this.log.info({ file: this.file }, 'vault.json is gone: the vault is now empty');
        this.entries = new Map();
        this.signature = 'missing';
        await this.sources.sync([]);
      }
      return;
    }
    try {
      // fstat on the open descriptor: the signature belongs to exactly the bytes read below.
      const st = await fh.stat();
      const sig = `${st.ino}:${st.size}:${st.mtimeMs}`;
      if (sig === this.signature) return;
      if ((st.mode & 0o077) !== 0 && !this.warnedMode) {
        this.warnedMode = true;
        this.log.warn({ file: this.file, mode: (st.mode & 0o777).toString(8) }, 'vault.json is readable by group or others: chmod 600 it');
      }
      const vault = parseVault(await fh.readFile('utf8'), this.file);
      this.entries = new Map(vault.entries.map((e) => [e.name, e]));
      this.signature = sig;
      await this.sources.sync(vault.entries);
      if (!initial) this.log.info({ file: this.file, entries: vault.entries.length }, 'vault reloaded');
    } catch (err) {
      if (initial) throw isVaultError(err) ? err : ioError(this.file, err);
      if (isVaultError(err) && err.code === 'VAULT_CORRUPT') {
        // Remember the bad version so it is reported once, not on every poll.
        const st = await fh.stat().catch(() => undefined);
        if (st) this.signature = `${st.ino}:${st.size}:${st.mtimeMs}`;
      }
      throw err;
    } finally {
      await fh.close();
    }
  }

  private warn(err: unknown): void {
    // Only the code and our own message: VaultError messages never quote the file.
    const code = isVaultError(err) ? err.code : ((err as NodeJS.ErrnoException | undefined)?.code ?? 'unknown');
    const message = isVaultError(err) ? err.message : 'read failed';
    this.log.warn({ file: this.file, code }, `vault.json could not be loaded, keeping the previous contents: ${message}`);
  }
}

function ioError(file: string, err: unknown): VaultError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? 'unknown error';
  return new VaultError('VAULT_IO', `cannot read ${file}: ${code}`);
}
